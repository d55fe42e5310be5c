"""The plan as one sticky merge-request note: the note this token's user wrote that starts with syncer's
hidden marker is updated in place; without one, a note is created. A note anyone else wrote is never
touched, even when it starts with the marker (anyone can type it).

GitLab refuses a note of more than 1,000,000 characters (docs/gitlab.md): a longer body is cut at a line
break with a note of how much was cut and where the whole plan is."""

from __future__ import annotations

from typing import Literal, NamedTuple

from syncer.gitlab.api import Gitlab, Note
from syncer.report.plan_markdown import MARKER
from syncer.text import plural

#: GitLab's limit on a note's body, in characters.
MAX_NOTE_CHARS = 1_000_000


class Posted(NamedTuple):
    action: Literal["created", "updated"]
    note_id: int
    cut_chars: int  # characters cut from the end to fit (0: none)


def is_ours(note: Note, user_id: int) -> bool:
    """A note of this token's user that holds a syncer plan (not a system note)."""
    return not note.system and note.author_id == user_id and note.body.startswith(MARKER)


def fit(body: str, limit: int = MAX_NOTE_CHARS) -> tuple[str, int]:
    """`body` cut to at most `limit` characters at a line break, with a closing line saying how much was
    cut and where the whole plan is; and how many characters of `body` were left out."""
    if len(body) <= limit:
        return body, 0
    tail = (
        "\n\n**Cut to fit GitLab's {limit:,}-character note: the last {cut:,} characters are not shown.** "
        "The full plan is in the job's artifacts (plan.md, plan.json).\n"
    )
    room = limit - len(tail.format(limit=limit, cut=len(body)))
    kept = body[: body.rfind("\n", 0, room) + 1 or room]
    cut = len(body) - len(kept)
    return kept + tail.format(limit=limit, cut=cut), cut


def post_sticky(api: Gitlab, *, project: str, mr: int, body: str) -> Posted:
    """Update this token's user's syncer note on merge request `mr`, or create one."""
    text, cut = fit(body)
    me = api.user_id()
    for note in api.notes(project, mr):
        if is_ours(note, me):
            api.update_note(project, mr, note.id, text)
            return Posted("updated", note.id, cut)
    return Posted("created", api.create_note(project, mr, text), cut)


def describe(posted: Posted, mr: int) -> str:
    """One line for the job log."""
    line = f"{posted.action} the syncer plan note {posted.note_id} on merge request !{mr}"
    if posted.cut_chars:
        line += f" (cut to fit GitLab's note size: {plural(posted.cut_chars, 'character')} left out)"
    return line
