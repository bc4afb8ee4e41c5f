"""`python -m pipelines.cli`: the `ciem` command."""

import sys

from pipelines.cli.app import console_main

sys.exit(console_main())
