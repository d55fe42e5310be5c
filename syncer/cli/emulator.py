"""`syncer emulator`: the local Feishu stand-in on loopback."""

from __future__ import annotations

from pathlib import Path

import click

from syncer.cli.main import (
    cli,
)
from syncer.cli.output import say
from syncer.errors import SyncerError


@cli.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Keep it on loopback: the emulator accepts well-known credentials.",
)
@click.option(
    "--port",
    default=0,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on; 0 picks a free one (the URL printed first says which).",
)
@click.option(
    "--tenant",
    "tenant_file",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Tenant file (schemas/emulator-tenant.schema.json); default: the tenant matching the example metrics/ root.",
)
@click.option(
    "--import-per-minute",
    type=click.IntRange(min=1),
    default=None,
    help="Rate limit of metric_details/import per minute (Feishu's is 10); overrides the tenant file.",
)
def emulator(host: str, port: int, tenant_file: Path | None, import_per_minute: int | None) -> int:
    """Run a local Feishu emulator until Ctrl-C or SIGTERM.

    The first line printed is its URL (http://127.0.0.1:PORT): point FEISHU_BASE_URL (or --base-url)
    at it, with FEISHU_APP_ID=cli_emulator and FEISHU_APP_SECRET=emulator_secret unless the tenant file
    says otherwise. The official lark-oapi SDK works against it unchanged. Test helpers live under
    URL/_emulator/ (request log, stored values, fault injection); see docs/emulator.md.
    """
    from syncer.emulator import Emulator, EmulatorServer, is_loopback, load_tenant, run_until_stopped

    tenant = load_tenant(tenant_file)
    emu = Emulator(tenant, import_per_minute=import_per_minute)

    def ready(server: EmulatorServer) -> None:
        click.echo(server.url)
        if not is_loopback(host):
            click.secho(
                f"WARNING: the emulator listens on {host}, not on loopback: anyone who can reach this "
                f"address can use it with the app secret of the tenant file. Use --host 127.0.0.1 "
                f"unless you know why not.",
                err=True,
                fg="red",
                bold=True,
            )
        say(
            f"Feishu emulator ready: app_id {tenant.app.app_id}, tenant "
            f"{tenant_file or 'default'}, import limit "
            f"{emu.tenant.rate_limits['metric_details.import'].per_minute or 'none'}/min. Ctrl-C stops it.",
            err=True,
        )

    try:
        run_until_stopped(emu, host=host, port=port, on_ready=ready)
    except (UnicodeError, TypeError) as exc:  # a --host that cannot be a host name (IDNA refuses it)
        raise SyncerError(f"--host {host!r} is not an address to listen on ({exc})") from None
    except OSError as exc:  # the port is taken, the address is not this machine's, no permission
        raise SyncerError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}): pick another --port, or 0 for a free one"
        ) from None
    click.echo("Feishu emulator stopped.", err=True)
    return 0
