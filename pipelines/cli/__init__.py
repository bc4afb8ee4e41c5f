"""The `ciem` command line, one module per command (`ciem = "pipelines.cli:main"`)."""

from pipelines.cli.app import main

__all__ = ["main"]
