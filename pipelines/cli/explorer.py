"""`ciem explorer`: serves the Identity Risks Explorer on 127.0.0.1 from the last run's warehouse.

Read-only; the page and its API are in pipelines/lib/serve/explorer/."""

from __future__ import annotations

import argparse
import socket
from pathlib import Path
from typing import Any

from pipelines.cli.options import add_lake_args, port
from pipelines.lib.lake import Lake

DEFAULT_PORT = 8765


def add_explorer_parser(subparsers: Any) -> None:
    """Register `ciem explorer [--lake DIR] [--port N]`."""
    p = subparsers.add_parser(
        "explorer",
        help="serve the Identity Risks Explorer page on http://127.0.0.1 (read-only)",
        description=(
            "Serves the identity risks of the last run: group by risk or resource, filters, "
            "and a side panel with insights, relationships, configuration, timeline and "
            "remediation. Static copy of the same page: <lake>/reports/explorer.html."
        ),
    )
    p.add_argument(
        "--port",
        type=port,
        default=DEFAULT_PORT,
        metavar="N",
        help=f"port on 127.0.0.1 (default: {DEFAULT_PORT}; 0 = any free port)",
    )
    add_lake_args(p)
    p.set_defaults(func=cmd_explorer)


def cmd_explorer(args: argparse.Namespace) -> None:
    import uvicorn

    from pipelines.lib.serve.explorer.server import create_app

    lake = Lake.at(Path(args.lake))
    if not lake.warehouse_path.exists():
        raise RuntimeError(
            f"no warehouse at {lake.warehouse_path}: run `ciem demo` or `ciem run` first"
        )
    # Bound here so that the address printed is the one served (with --port 0, the port got).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", args.port))
    except OSError as exc:
        sock.close()
        raise RuntimeError(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror}") from None
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(lake),
        log_level="debug" if args.debug else "warning",
        access_log=args.debug,
    )
    print(
        f"Identity Risks Explorer: http://127.0.0.1:{port}/\n"
        f"  warehouse {lake.warehouse_path} (read-only); Ctrl-C stops",
        flush=True,
    )
    uvicorn.Server(config).run(sockets=[sock])
