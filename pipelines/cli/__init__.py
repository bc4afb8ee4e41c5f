"""The `ciem` command line, one module per command (`ciem = "pipelines.cli:console_main"`)."""

from pipelines.cli.app import console_main, main

__all__ = ["console_main", "main"]
