"""Questions about credentials and packages: does a token work (check, diagnose), dependency
confusion, audit, provenance, origins of installed distributions, the SBOM."""
