"""Tokens written into files: finding them (scan) and moving them out (migrate)."""
