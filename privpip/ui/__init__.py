"""The terminal: colour and width, tables, spinners; how privpip was installed (for hints)."""
