"""`ciem explorer`: serves the Identity Risks Explorer on 127.0.0.1 from the last run's warehouse.

Read-only and private: a random token per start, in the URL it prints (as Jupyter does); the
page and its API are in pipelines/lib/serve/explorer/."""

from __future__ import annotations

import argparse
import socket
from typing import Any

from pipelines.cli.options import add_lake_args, open_lake, port

DEFAULT_PORT = 8765


def add_explorer_parser(subparsers: Any) -> None:
    """Register `ciem explorer [--lake DIR] [--port N] [--no-token]`."""
    p = subparsers.add_parser(
        "explorer",
        help="serve the Identity Risks Explorer page on http://127.0.0.1 (read-only, token)",
        description=(
            "Serves the identity risks of the last run: group by risk or resource, filters, "
            "and a side panel with insights, relationships, configuration, timeline and "
            "remediation. Each start makes a random token and prints the URL that carries it "
            "(http://127.0.0.1:PORT/?token=...): a request without the token gets 403, so "
            "other users of the machine cannot read the detections. Static copy of the same "
            "page: <lake>/reports/explorer.html (owner-only, like the whole lake)."
        ),
    )
    p.add_argument(
        "--port",
        type=port,
        default=DEFAULT_PORT,
        metavar="N",
        help=f"port on 127.0.0.1 (default: {DEFAULT_PORT}; 0 = any free port)",
    )
    p.add_argument(
        "--no-token",
        action="store_true",
        help="serve without a token: any user of this machine can read every detection",
    )
    add_lake_args(p)
    p.set_defaults(func=cmd_explorer)


def cmd_explorer(args: argparse.Namespace) -> None:
    import uvicorn

    from pipelines.lib.serve.explorer.server import create_app, new_token

    lake = open_lake(args.lake)
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
    token = None if args.no_token else new_token()
    config = uvicorn.Config(
        create_app(lake, token=token),
        log_level="debug" if args.debug else "warning",
        access_log=args.debug,
    )
    url = f"http://127.0.0.1:{port}/" + (f"?token={token}" if token else "")
    access = (
        "token in the URL: keep it to yourself"
        if token
        else "no token (--no-token): any local user can read it"
    )
    print(
        f"Identity Risks Explorer: {url}\n"
        f"  {access}\n"
        f"  warehouse {lake.warehouse_path} (read-only); Ctrl-C stops",
        flush=True,
    )
    uvicorn.Server(config).run(sockets=[sock])
