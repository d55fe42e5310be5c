"""`python -m syncer` and the `syncer` command. The signal handlers come first, before the command line is
imported (a second or so of imports that a Ctrl-C may interrupt): see syncer.interrupt."""

from __future__ import annotations

import sys

from syncer import interrupt


def main() -> None:
    interrupt.install()
    try:
        from syncer.cli import main as cli_main

        cli_main()
    except KeyboardInterrupt as exc:  # before the command line could catch it, or after it let go
        sys.exit(interrupt.finish(exc))


if __name__ == "__main__":
    main()
