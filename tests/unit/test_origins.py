"""privpip.checks.origins: reading where each distribution came from, and the findings."""

from __future__ import annotations

import json
import time
from pathlib import Path

from privpip.checks import origins, provenance
from privpip.checks.provenance import Dist, Fetched
from privpip.config import Index
from tests.helpers import pp

CORP = Index("corp", "https://pkgs.example.com/simple/", packages=("corp-*",))
OTHER = Index("other", "https://other.example.com/simple/")
PUBLIC = "https://pypi.org/simple/"
SHA = "ab" * 32


def _dist(site: Path, name: str, version: str = "1.0", installer: str | None = "pip") -> Path:
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                                   f"Summary: x\n\nName: not-this\n")
    (info / "RECORD").write_text(f"{info.name}/METADATA,,\n{info.name}/RECORD,,\n")
    if installer:
        (info / "INSTALLER").write_text(installer + "\n")
    return info


def _record(info: Path, index: Index, name: str) -> None:
    provenance.write(Dist(info, name, "1.0"),
                     Fetched(f"{name}-1.0.tar.gz", index.url.replace("/simple/", f"/files/{name}-1.0.tar.gz"),
                             index.name, index.url, SHA))


def _one(info: Path) -> origins.Origin:
    return origins.origin_of(info, [CORP, OTHER], PUBLIC)


def test_recorded_from_its_owner_is_fine(tmp_path):
    info = _dist(tmp_path, "corp-lib")
    _record(info, CORP, "corp-lib")
    found = _one(info)
    assert (found.kind, found.index_name, found.sha256, found.finding) == (
        "index", "corp", SHA, None)
    assert found.url == "https://pkgs.example.com/files/corp-lib-1.0.tar.gz"


def test_owned_name_recorded_from_another_index(tmp_path):
    info = _dist(tmp_path, "Corp_Lib")
    _record(info, OTHER, "corp-lib")
    assert _one(info).finding == "owned by index corp (packages), but it came from other"


def test_an_index_the_config_does_not_name_is_shown_by_url(tmp_path):
    info = _dist(tmp_path, "corp-lib")
    _record(info, Index("gone", "https://gone.example.com/simple/"), "corp-lib")
    found = _one(info)
    assert found.index_name is None
    assert found.finding == ("owned by index corp (packages), but it came from "
                             "https://gone.example.com/simple/")
    assert origins.text_lines([found], "env")[2].split()[2] == "gone.example.com"


def test_a_changed_record_is_a_finding(tmp_path):
    info = _dist(tmp_path, "corp-lib")
    _record(info, CORP, "corp-lib")
    path = info / provenance.FILE
    document = json.loads(path.read_text())
    document["archive_info"]["hashes"]["sha256"] = "cd" * 32
    path.write_text(json.dumps(document, indent=2) + "\n")
    assert _one(info).finding == ("provenance_url.json changed since the install (its RECORD "
                                  "hash differs)")
    path.write_text("{not json")
    found = _one(info)
    assert found.kind == "unknown"
    assert found.finding == "provenance_url.json is not a valid PEP 710 record (changed or damaged)"


def test_unknown_and_direct(tmp_path):
    plain = _one(_dist(tmp_path, "requests", installer="uv"))
    assert (plain.kind, plain.why, plain.finding) == (
        "unknown", "installed by uv without privpip's local index (no provenance_url.json)", None)
    owned = _one(_dist(tmp_path, "corp-x", installer=None))
    assert owned.why == ("installed by an unknown installer without privpip's local index "
                         "(no provenance_url.json)")
    assert owned.finding == ("owned by index corp (packages), but nothing records that it came "
                             "from there")
    editable = _dist(tmp_path, "corp-dev")
    (editable / "direct_url.json").write_text(json.dumps(
        {"url": "file:///src/corp-dev", "dir_info": {"editable": True}}))
    found = _one(editable)
    assert (found.kind, found.finding) == ("direct", None)  # a developer's own checkout
    assert found.why == "installed from an editable install of file:///src/corp-dev " \
        "(direct_url.json)"
    vcs = _dist(tmp_path, "corp-vcs")
    (vcs / "direct_url.json").write_text(json.dumps(
        {"url": "https://user:pw@git.example.com/x.git",
         "vcs_info": {"vcs": "git", "commit_id": "0" * 40}}))
    found = _one(vcs)
    assert found.url == "https://git.example.com/x.git"
    assert found.finding == ("owned by index corp (packages), but installed from "
                             "https://git.example.com/x.git")


def test_150_distributions_well_under_a_second(tmp_path):
    site = tmp_path / "site"
    for n in range(150):
        info = _dist(site, f"pkg-{n}")
        if n % 2:
            _record(info, CORP if n % 4 == 1 else OTHER, f"pkg-{n}")
        (info / "METADATA").write_text((info / "METADATA").read_text() + "long text\n" * 5000)
    start = time.perf_counter()
    found = origins.audit([site], [CORP, OTHER], PUBLIC)
    took = time.perf_counter() - start
    assert len(found) == 150 and sum(o.kind == "index" for o in found) == 75
    assert took < 1.0, f"{took:.3f} s"  # the bar: 150 distributions under a second


def test_options_that_need_installed_are_usage_errors(tmp_path):
    result = pp("audit", "--json", cwd=tmp_path)
    assert result.returncode == 2
    assert "--python, --json and --format go with --installed" in result.stderr
    assert "Traceback" not in result.stderr
    result = pp("audit", "--installed", "--public-index", PUBLIC, cwd=tmp_path)
    assert result.returncode == 2 and "do not go with --installed" in result.stderr


def test_a_damaged_record_does_not_stop_the_audit(tmp_path):
    info = _dist(tmp_path, "corp-lib")
    _record(info, CORP, "corp-lib")
    huge = '"' + "x" * 200_000 + '"'  # larger than csv's field limit: csv.Error
    (info / "RECORD").write_text(f"{info.name}/{provenance.FILE},{huge},1\n")
    found = _one(info)
    assert (found.kind, found.index_name, found.finding) == ("index", "corp", None)
