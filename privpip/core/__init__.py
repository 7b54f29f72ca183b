"""Pure rules, no I/O beyond privpip's own files: identity, token shapes, secrets, pip's arguments
and settings, atomic writes, privpip's data directory, thread signal masks."""
