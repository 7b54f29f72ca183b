"""End to end: PEP 710 provenance written by `privpip install` (pip and uv) through the local
index, removed by `pip uninstall`, and read back by `privpip audit --installed`, with real pip,
uv and pypiserver indexes (two on one host, each with its own user and token)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import packaging_fixtures
from tests.helpers import (
    privpip,
    start_multi_pypiserver,
    stop_server,
    token_forms,
    venv_python,
    write_config,
    write_htpasswd,
)

CORP_USER, CORP_TOKEN = "corp-deployer", "corp-Token_" + "pr0v3a1b2c"
OTHER_USER, OTHER_TOKEN = "other-deployer", "other-Token_" + "pr0v3d4e5f"
TOKENS = {"PRIVPIP_INDEX_CORP_TOKEN": CORP_TOKEN, "PRIVPIP_INDEX_OTHER_TOKEN": OTHER_TOKEN,
          "UV_NO_CACHE": "1"}


def _wheel(directory: Path, name: str, version: str, requires: list[str] | None = None) -> Path:
    module = name.replace("-", "_")
    return packaging_fixtures.write_wheel(
        directory, name, version, {f"{module}/__init__.py": f"VALUE = {name + ' ' + version!r}\n"},
        requires=requires)


class Indexes:
    def __init__(self, root: str, wheels: dict[str, Path]) -> None:
        self.root = root
        self.wheels = wheels

    def url(self, name: str, user: str | None = None, token: str | None = None) -> str:
        auth = f"{user}:{token}@" if user else ""
        return f"http://{auth}{self.root.removeprefix('http://')}/{name}/simple/"

    def config(self) -> str:
        """corp owns corp-*; other is the default and also holds a squatted corp-dep 99.0."""
        return (f'[[index]]\nname = "corp"\nurl = "{self.url("corp")}"\n'
                f'username = "{CORP_USER}"\npackages = ["corp-*"]\n\n'
                f'[[index]]\nname = "other"\nurl = "{self.url("other")}"\n'
                f'username = "{OTHER_USER}"\ndefault = true\n')


@pytest.fixture(scope="module")
def indexes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Indexes]:
    base = tmp_path_factory.mktemp("provenance")
    corp, other = base / "corp", base / "other"
    corp.mkdir()
    other.mkdir()
    wheels = {
        "corp-dep": _wheel(corp, "corp-dep", "1.0"),
        "corp-top": _wheel(corp, "corp-top", "1.0", requires=["corp-dep"]),
        "b-pkg": _wheel(other, "b-pkg", "1.0"),
        "squat": _wheel(other, "corp-dep", "99.0"),
    }
    specs = [f"{name}={path}:{write_htpasswd(base / f'{name}.htpasswd', {user: token})}"
             for name, path, user, token in (("corp", corp, CORP_USER, CORP_TOKEN),
                                             ("other", other, OTHER_USER, OTHER_TOKEN))]
    process, root = start_multi_pypiserver(specs)
    try:
        yield Indexes(root, wheels)
    finally:
        stop_server(process)


def no_token_in(text: str) -> None:
    for user, token in ((CORP_USER, CORP_TOKEN), (OTHER_USER, OTHER_TOKEN)):
        for form in token_forms(user, token):
            assert form not in text, f"a form of {user}'s token leaked"


def dist_info(venv: Path, name: str, version: str) -> Path:
    found = list(venv.glob(f"lib/python*/site-packages/{name.replace('-', '_')}-{version}"
                           ".dist-info"))
    assert len(found) == 1, found
    return found[0]


def pip(venv: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([venv_python(venv), "-m", "pip", "--disable-pip-version-check",
                           *args], capture_output=True, text=True)


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_install_records_provenance_and_uninstall_removes_it(indexes, make_venv, tmp_path,
                                                             installer):
    write_config(tmp_path, indexes.config())
    venv = make_venv()
    result = privpip("--no-input", "install", "--python", venv_python(venv), "--installer",
                     installer, "corp-top", cwd=tmp_path, env=TOKENS)
    assert result.returncode == 0, result.stderr
    for name in ("corp-top", "corp-dep"):
        info = dist_info(venv, name, "1.0")
        text = (info / "provenance_url.json").read_text()
        no_token_in(text)
        wheel = indexes.wheels[name]
        assert json.loads(text) == {
            "url": f"{indexes.root}/corp/packages/{wheel.name}",
            "archive_info": {"hashes": {"sha256": hashlib.sha256(wheel.read_bytes()).hexdigest()}},
            "index_url": indexes.url("corp"),
        }
        record = (info / "RECORD").read_text()
        assert f"{info.name}/provenance_url.json,sha256=" in record
        no_token_in(record)
    assert "provenance" not in result.stdout + result.stderr  # nothing new on the terminal
    # uninstall removes the file with the rest: no .dist-info is left behind
    assert pip(venv, "uninstall", "-y", "corp-top", "corp-dep").returncode == 0
    assert not list(venv.glob("lib/python*/site-packages/corp_*"))


def test_distribution_this_run_did_not_install_is_left_alone(indexes, make_venv, tmp_path):
    """corp-dep 1.0 installed earlier by plain pip; a privpip --dry-run streams the same
    wheel (pip reads its metadata from it) but installs nothing: no record is written."""
    write_config(tmp_path, indexes.config())
    venv = make_venv()
    plain = pip(venv, "install", "--no-input", "-i", indexes.url("corp", CORP_USER, CORP_TOKEN),
                "corp-dep==1.0")
    assert plain.returncode == 0, plain.stderr
    time.sleep(1.5)  # the run's clock starts a second before it: be clearly earlier
    result = privpip("--no-input", "-v", "install", "--python", venv_python(venv), "--dry-run",
                     "--ignore-installed", "corp-dep==1.0", cwd=tmp_path, env=TOKENS)
    assert result.returncode == 0, result.stderr
    assert "GET /files/corp/" in result.stderr  # the wheel did stream through the index
    assert not (dist_info(venv, "corp-dep", "1.0") / "provenance_url.json").exists()


def test_run_child_that_installs_gets_provenance(indexes, make_venv, tmp_path):
    """`privpip run -- VENV/bin/python -m pip install ...`: COMMAND's interpreter is where it
    installs, so the record lands there too."""
    write_config(tmp_path, indexes.config())
    venv = make_venv()
    result = privpip("--no-input", "run", "--", venv_python(venv), "-m", "pip", "install",
                     "--disable-pip-version-check", "corp-dep", cwd=tmp_path, env=TOKENS)
    assert result.returncode == 0, result.stderr
    record = json.loads((dist_info(venv, "corp-dep", "1.0") / "provenance_url.json").read_text())
    assert record["index_url"] == indexes.url("corp")


def audit(tmp_path: Path, venv: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = privpip("audit", "--installed", "--python", venv_python(venv), *args, cwd=tmp_path,
                     env=TOKENS)
    no_token_in(result.stdout + result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def by_name(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, object]]:
    return {entry["name"]: entry for entry in json.loads(result.stdout)}


def test_audit_installed_names_each_origin_and_the_findings(indexes, make_venv, tmp_path):
    write_config(tmp_path, indexes.config())
    venv = make_venv()
    result = privpip("--no-input", "install", "--python", venv_python(venv), "corp-top",
                     cwd=tmp_path, env=TOKENS)
    assert result.returncode == 0, result.stderr
    plain = pip(venv, "install", "--no-input", "-i",
                indexes.url("other", OTHER_USER, OTHER_TOKEN), "b-pkg")
    assert plain.returncode == 0, plain.stderr

    result = audit(tmp_path, venv, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    found = by_name(result)
    for name in ("corp-top", "corp-dep"):
        wheel = indexes.wheels[name]
        assert found[name] == {
            "name": name, "version": "1.0", "origin": "index", "index": "corp",
            "index_url": indexes.url("corp"),
            "url": f"{indexes.root}/corp/packages/{wheel.name}",
            "sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
            "why": None, "finding": None}
    assert found["b-pkg"]["origin"] == "unknown" and found["b-pkg"]["index"] is None
    assert found["b-pkg"]["why"] == ("installed by pip without privpip's local index "
                                     "(no provenance_url.json)")
    assert found["b-pkg"]["finding"] is None  # nobody owns b-pkg
    assert found["pip"]["origin"] == "unknown"

    text = audit(tmp_path, venv)
    assert text.returncode == 0
    assert any(line.split()[:3] == ["corp-dep", "1.0", "corp"] for line in
               text.stdout.splitlines()), text.stdout

    if importlib.util.find_spec("cyclonedx") is not None:  # in the test extra
        from cyclonedx.schema import SchemaVersion
        from cyclonedx.validation.json import JsonStrictValidator

        sbom = audit(tmp_path, venv, "--format", "cyclonedx")
        assert sbom.returncode == 0, sbom.stderr
        assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(sbom.stdout) is None
        components = {c["name"]: c for c in json.loads(sbom.stdout)["components"]}
        assert components["corp-dep"]["purl"] == (
            f"pkg:pypi/corp-dep@1.0?repository_url={indexes.url('corp')}")
        assert components["corp-dep"]["hashes"][0]["content"] == found["corp-dep"]["sha256"]

    # The squatted corp-dep 99.0, installed by plain pip from the other index: a finding.
    plain = pip(venv, "install", "--no-input", "-i",
                indexes.url("other", OTHER_USER, OTHER_TOKEN), "corp-dep==99.0")
    assert plain.returncode == 0, plain.stderr
    result = audit(tmp_path, venv, "--json")
    assert result.returncode == 1
    squat = by_name(result)["corp-dep"]
    assert squat["version"] == "99.0" and squat["origin"] == "unknown"
    assert squat["finding"] == ("owned by index corp (packages), but nothing records that it "
                                "came from there")
    text = audit(tmp_path, venv)
    assert text.returncode == 1
    assert text.stdout.splitlines()[-1] == (
        "finding: corp-dep 99.0: owned by index corp (packages), but nothing records that it "
        "came from there")


def test_audit_owned_name_recorded_from_another_index(indexes, make_venv, tmp_path):
    """Installed through privpip while corp did not claim corp-* and pages merged (pip's
    highest version anywhere): 99.0, recorded from `other`. Once corp owns corp-*, the
    audit reports it."""
    unowned = ('index-strategy = "unsafe-best-match"\n'
               + indexes.config().replace('packages = ["corp-*"]\n', ""))
    write_config(tmp_path, unowned)
    venv = make_venv()
    result = privpip("--no-input", "install", "--python", venv_python(venv), "corp-dep",
                     cwd=tmp_path, env=TOKENS)
    assert result.returncode == 0, result.stderr
    result = audit(tmp_path, venv, "--json")
    assert result.returncode == 0
    assert by_name(result)["corp-dep"]["index"] == "other"
    assert by_name(result)["corp-dep"]["version"] == "99.0"

    write_config(tmp_path, indexes.config())
    result = audit(tmp_path, venv, "--json")
    assert result.returncode == 1
    assert by_name(result)["corp-dep"]["finding"] == (
        "owned by index corp (packages), but it came from other")
