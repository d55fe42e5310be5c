"""The canonical form of a value Feishu answers (metric_details/query), as the state and plans hold it:
what apply's read-back, drift and import compare with the YAML."""

from __future__ import annotations

import re

from syncer.feishu.records import RemoteField
from syncer.model import FieldDef, UserIdType


class Unrepresentable(ValueError):
    """A live value syncer cannot hold as written (e.g. a number with a thousands separator)."""


NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?\Z")


PERCENTAGE = re.compile(r"(-?[0-9]+(?:\.[0-9]+)?)%?\Z")


def normalise_text(text: str) -> str:
    """Line breaks as the YAML loader gives them: `\\r\\n` and `\\r` become `\\n`."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def canonical_remote(field: FieldDef, remote: RemoteField, user_id_type: UserIdType) -> str | None:
    """The canonical value (as the state and plans hold it) of a field as Feishu answers it; None when the
    field holds no value. Raises `Unrepresentable` when the value can't be written in a data file."""
    if field.type == "person":
        person = remote.person.get(user_id_type) if remote.person is not None else None
        if person:
            return person
        if remote.value:
            raise Unrepresentable(f"a person field without a user ID of type {user_id_type}")
        return None
    value = remote.value
    if value is None or value == "":
        return None
    if field.type == "number":
        if NUMBER.match(value):
            return value
        raise Unrepresentable("not a number syncer can write (digits, optional minus sign and decimal point)")
    if field.type == "percentage":
        m = PERCENTAGE.match(value)
        if m:
            return m.group(1)
        raise Unrepresentable("not a percentage syncer can write (e.g. 40% or 40)")
    return normalise_text(value)


def remote_text(remote: RemoteField, user_id_type: UserIdType) -> str | None:
    """A live value when its field is not in the catalog: the person's ID, else the text as sent."""
    if remote.person is not None:
        pid = remote.person.get(user_id_type)
        if pid:
            return pid
    return None if remote.value is None or remote.value == "" else normalise_text(remote.value)
