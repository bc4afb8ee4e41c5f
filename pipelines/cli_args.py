"""Options every `ciem` sub-command shares (kept apart so sub-command modules need not import
pipelines.cli)."""

import argparse


def add_debug_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show tracebacks and debug logs",
    )


def add_lake_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lake", default="data/lake", help="lake folder (default: data/lake)")
