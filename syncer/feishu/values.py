"""The canonical form of a value Feishu answers (metric_details/query), as the state and plans hold it:
what apply's read-back, drift and import compare with the YAML. Each type's live-read form is its own
(syncer.fieldtypes); here a RemoteField is taken apart."""

from __future__ import annotations

from syncer.feishu.records import RemoteField
from syncer.fieldtypes import Refusal, field_type, normalise_text
from syncer.model import FieldDef, UserIdType


class Unrepresentable(ValueError):
    """A live value syncer cannot hold as written (e.g. a number with a thousands separator)."""


def canonical_remote(field: FieldDef, remote: RemoteField, user_id_type: UserIdType) -> str | None:
    """The canonical value (as the state and plans hold it) of a field as Feishu answers it; None when the
    field holds no value. Raises `Unrepresentable` when the value can't be written in a data file."""
    ftype = field_type(field.type)
    if ftype.person:
        person = remote.person.get(user_id_type) if remote.person is not None else None
        if person:
            return person
        if remote.value:
            raise Unrepresentable(f"a person field without a user ID of type {user_id_type}")
        return None
    value = remote.value
    if value is None or value == "":
        return None
    canonical = ftype.live(value)
    if isinstance(canonical, Refusal):
        raise Unrepresentable(canonical.message)
    return canonical


def remote_text(remote: RemoteField, user_id_type: UserIdType) -> str | None:
    """A live value when its field is not in the catalog: the person's ID, else the text as sent."""
    if remote.person is not None:
        pid = remote.person.get(user_id_type)
        if pid:
            return pid
    return None if remote.value is None or remote.value == "" else normalise_text(remote.value)
