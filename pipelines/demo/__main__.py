"""`python -m pipelines.demo data/demo` (`make demo-data`): regenerate the embedded demo."""

from pipelines.demo.main import main

main()
