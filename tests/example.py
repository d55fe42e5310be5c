"""The example metrics root (metrics/) as tests use it: copied, with the local state backend, and with its
people named by any of the four user ID types.

metrics/syncer.yaml says `backend: git` (its state lives on a branch in CI); a copy in a temporary
directory outside git uses the local backend instead."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from syncer.emulator import Tenant, load_tenant
from syncer.load.files import NOT_DATA
from syncer.model import UserIdType

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "metrics"


def copy_example(dest: Path, *, backend: str = "local") -> Path:
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns(".syncer"))
    settings = dest / "syncer.yaml"
    text = settings.read_text(encoding="utf-8")
    assert "backend: git" in text, "metrics/syncer.yaml should keep its state on a git branch"
    settings.write_text(text.replace("backend: git", f"backend: {backend}"), encoding="utf-8")
    return dest


def fast_imports(root: Path) -> Path:
    """`root` with its syncer.yaml allowing 1000 imports a minute (the example paces to 10, as the tenant does),
    for an emulator at that rate: no test waits for the pacing. Doing it twice changes nothing."""
    settings = root / "syncer.yaml"
    text, found = re.subn(
        r"^(\s+import_per_minute:) \d+$", r"\1 1000", settings.read_text(encoding="utf-8"), flags=re.M
    )
    assert found == 1, f"{settings} should set import_per_minute once"
    settings.write_text(text, encoding="utf-8")
    return root


def copy_example_as(dest: Path, uid: UserIdType, *, tenant: Tenant | None = None, data: bool = True) -> Path:
    """The example root with `target.user_id_type: uid` and every person ID (the example names people by
    open_id) replaced by the `uid` ID of the same user of `tenant` (the emulator's default tenant, which
    knows each user's four IDs); `data=False` leaves the data files out (catalog and settings alone)."""
    users = (tenant if tenant is not None else load_tenant()).users.values()
    root = copy_example(dest)
    settings = root / "syncer.yaml"
    text = settings.read_text(encoding="utf-8")
    assert "user_id_type: open_id" in text, "metrics/syncer.yaml should name people by open_id"
    settings.write_text(text.replace("user_id_type: open_id", f"user_id_type: {uid}"), encoding="utf-8")
    for path in root.rglob("*.yaml"):
        if not data and path.name not in NOT_DATA:
            path.unlink()
            continue
        text = path.read_text(encoding="utf-8")
        for user in users:  # people_admin_id is digits: quoted, as an ID is a string
            text = text.replace(user.open_id, f'"{user.id_of(uid)}"' if uid == "people_admin_id" else user.id_of(uid))
        path.write_text(text, encoding="utf-8")
    return root
