"""privpip: install from private Python package indexes without writing a token into a file."""

__version__ = "0.1.0"
