"""Entry point for ``python -m privpip``."""

from privpip.launch import main

main()
