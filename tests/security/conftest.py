"""Fixtures of the security suite: a pypiserver that accepts the canary, hypothesis profiles,
and the one-line leak summary printed at the end of every pytest run that ran scenarios.

Hypothesis profiles: "ci" (the default; bounded so the suite stays within minutes on two
shared cores) and "long" for local runs: ``HYPOTHESIS_PROFILE=long python -m pytest tests/security``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests import packaging_fixtures
from tests.helpers import IndexServer, start_pypiserver, stop_server, write_htpasswd
from tests.security import leakscan

settings.register_profile(
    "ci", max_examples=60, deadline=None, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "long", max_examples=3000, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)


def budget(ci: int, long: int) -> int:
    """max_examples for one fuzzer under the active profile (slow fuzzers get fewer)."""
    return long if PROFILE == "long" else ci


ENVDUMP_BACKEND = '''
"""A build backend that prints its whole environment (as a CI debug step might) and fails."""
import os, sys


def get_requires_for_build_wheel(config_settings=None):
    for key, value in sorted(os.environ.items()):
        print("envdump: %s=%s" % (key, value))
    sys.stdout.flush()
    raise RuntimeError("corp-envdump: this backend always fails")


build_wheel = get_requires_for_build_wheel
'''


@pytest.fixture(scope="session")
def canary_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """A real pypiserver whose one user authenticates with the ASCII canary."""
    base = tmp_path_factory.mktemp("canary-index")
    packages = base / "packages"
    packaging_fixtures.populate(packages)
    packaging_fixtures.write_sdist_files(packages, "corp-envdump", "1.0", {
        "pyproject.toml": ('[build-system]\nrequires = ["corp-build-helper"]\n'
                           'build-backend = "envdump_backend"\nbackend-path = ["."]\n'),
        "envdump_backend.py": ENVDUMP_BACKEND,
    })
    users = {leakscan.CANARY_USER: leakscan.CANARY_ASCII, "other-user": "other-password-123"}
    process, root = start_pypiserver(packages, write_htpasswd(base / "htpasswd", users), "download,list,update",
                                     base / "server.log")
    yield IndexServer(root, packages, users, process)
    stop_server(process)


@pytest.fixture(scope="session")
def public_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An unauthenticated loopback pypiserver standing in for PyPI: someone squats corp-dep."""
    base = tmp_path_factory.mktemp("public-index")
    packages = base / "packages"
    packages.mkdir()
    packaging_fixtures.write_wheel(packages, "corp-dep", "99.0", {
        "corp_dep/__init__.py": "VALUE = 'squatter 99.0'\n"})
    process, root = start_pypiserver(packages, None, ".", base / "server.log")
    yield f"{root}/simple/"
    stop_server(process)


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001
    results = leakscan.RESULTS
    if not results:
        return
    leaks = sum(len(r.leaks) for r in results)
    names = {r.scenario for r in results}
    terminalreporter.write_line(
        f"leak scan: {len(names)} scenarios, {len(leakscan.CHANNELS)} channels, {leaks} leaks"
    )
    for result in results:
        for leak in result.leaks:
            terminalreporter.write_line(f"  leak in {result.scenario}: {leak}")
