"""`python -m pipelines.cli`: the `ciem` command."""

import sys

from pipelines.cli.app import main

sys.exit(main())
