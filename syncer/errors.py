"""One exception tree for expected failures. The CLI catches `SyncerError` once and prints its message;
anything else is a bug and is reported as one (with `--debug` for the traceback)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: `syncer --version` imports this module, not the model
    from syncer.model import Source, ValueKey


class SyncerError(Exception):
    """An expected failure: the message says what happened and what to do. Exit code 1 by default."""

    exit_code = 1
    multiline = False  # a message that is a list by design (one problem a line): its line breaks are kept

    def __init__(self, message: str, *, source: Source | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source

    def __str__(self) -> str:
        if self.source is not None:
            return f"{self.source}: {self.message}"
        return self.message


class LoadError(SyncerError):
    """A YAML file could not be read or parsed (encoding, syntax, size, duplicate keys, aliases)."""

    def __init__(self, message: str, *, source: Source | None = None, code: str = "load") -> None:
        super().__init__(message, source=source)
        self.code = code


class ConfigError(SyncerError):
    """syncer.yaml or catalog.yaml is unusable; the message names the file and what to fix."""


class StateError(SyncerError):
    """The state store is unreadable, locked, of another target, or of a newer format."""


class StateDamaged(StateError):
    """A state file holds what syncer never writes (a torn or hand-edited line, a bad merge): named by file
    and line, with advice that works for the backend the state is on."""

    LOCAL = (
        "restore the state directory from a backup (or from git, if it is committed), or start over "
        "with --state PATH; see docs/state.md#recovery"
    )
    GIT = (
        "the state branch keeps every apply: push back its last good commit (docs/state.md#recovery), "
        "or extract it with `git archive` and check it with --state PATH"
    )

    def __init__(self, where: str, what: str, *, advice: str = LOCAL) -> None:
        super().__init__(f"{where}: the state is damaged: {what}; {advice}")
        self.where = where
        self.what = what
        self.advice = advice


class StateUnavailable(StateError):
    """The state could not be reached (a remote that does not answer, no git work tree): nothing says it
    is damaged. Readers that can do without it (validation's people cache) carry on with a warning."""


class StateWriteError(StateError):
    """The operating system refused a write of the state (a full disk, a quota, a read-only file system, no
    permission, an I/O error): the message names the file and what to do. Every write before it is whole in
    the state. `told`: the message already says what the apply had recorded (said once, by the innermost
    caller that knows)."""

    def __init__(self, message: str, *, told: bool = False) -> None:
        super().__init__(message)
        self.told = told

    def telling(self, what: str) -> StateWriteError:
        """This error with what was recorded and what happens next added (once: a told error stays as it is)."""
        return self if self.told else StateWriteError(f"{self.message}. {what}", told=True)


class UnstorableValue(StateError):
    """A backend cannot store a value (postgres: a text its text type cannot hold, as U+0000). Nothing of the
    write that met it was stored; `key` names the value (semester, reviewee, metric, field) and `backend` the
    store, for the caller to set its row aside (docs/state.md, "A value the state cannot hold")."""

    def __init__(self, message: str, *, key: ValueKey, backend: str) -> None:
        super().__init__(message)
        self.key = key
        self.backend = backend


class InsecureBaseURLError(ConfigError):
    """The base URL is not https (and not loopback), or is not a plain scheme://host[:port] URL
    (`insecure` False: malformed rather than unsafe)."""

    def __init__(self, message: str, *, insecure: bool = True, source: Source | None = None) -> None:
        super().__init__(message, source=source)
        self.insecure = insecure


class RefusedError(SyncerError):
    """A safety rail refused the operation (thresholds, stale plan, wrong target, no TTY)."""


class FeishuError(SyncerError):
    """The Feishu API (or the network to it) failed in a way a retry does not fix. `maybe_landed`: an earlier
    attempt of the failed call may have reached Feishu (its answer was lost, or was a 5xx), so what this
    failure says is not what became of the call."""

    maybe_landed: bool = False

    def __init__(self, message: str, *, code: int | None = None, source: Source | None = None) -> None:
        super().__init__(message, source=source)
        self.code = code
