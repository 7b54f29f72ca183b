"""Entry point for ``python -m privpip``."""

from privpip.cli import main

main()
