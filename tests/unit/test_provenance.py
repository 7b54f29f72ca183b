"""privpip.provenance: the streamed-file records, matching them to installed distributions,
and the atomic write of provenance_url.json with its RECORD row."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import time
from pathlib import Path

from privpip import provenance
from privpip.localindex.model import Upstream
from privpip.provenance import Dist, Fetched, Recorder
from privpip.secret import Secret

TOKEN = "glpat-" + "s3cr3tT0kenValue12"
CORP = Upstream("corp", "https://pkgs.example.com/simple/", token=Secret(TOKEN))


def _fetched(filename: str, sha: str = "a" * 64) -> Fetched:
    return Fetched(filename, f"https://pkgs.example.com/files/{filename}", "corp",
                   CORP.url, sha)


def _dist_info(site: Path, name: str, version: str, tags: str = "py3-none-any",
               age: float = 0.0) -> Path:
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "WHEEL").write_text("Wheel-Version: 1.0\n" + "".join(
        f"Tag: {t}\n" for t in tags.split(",")))
    (info / "RECORD").write_text(f"{info.name}/METADATA,sha256=x,10\n{info.name}/RECORD,,\n")
    if age:
        past = time.time() - age
        os.utime(info, (past, past))
    return info


def test_clean_url_drops_userinfo_query_and_fragment():
    assert provenance.clean_url("https://u:p@h.example/a/b.whl?X-Sig=abc#sha256=00") == \
        "https://h.example/a/b.whl"


def test_sink_hashes_the_streamed_blocks():
    recorder = Recorder()
    sink = recorder.sink(CORP, "https://u:pw@pkgs.example.com/f/x-1.0.tar.gz?sig=1", "x-1.0.tar.gz")
    assert sink is not None
    for block in (b"abc", b"", b"def" * 1000):
        sink.update(block)
    assert recorder.files() == []  # nothing until the body went out complete
    sink.done()
    (only,) = recorder.files()
    assert only == Fetched("x-1.0.tar.gz", "https://pkgs.example.com/f/x-1.0.tar.gz", "corp",
                           CORP.url, hashlib.sha256(b"abc" + b"def" * 1000).hexdigest())


def test_a_url_carrying_the_token_is_not_recorded():
    assert Recorder().sink(CORP, f"https://pkgs.example.com/{TOKEN}/x-1.0.whl", "x") is None


def test_match_by_name_version_and_tags(tmp_path):
    since = time.time() - 1
    top = _dist_info(tmp_path, "Corp.Top", "1.0")
    _dist_info(tmp_path, "corp-old", "1.0", age=3600)  # installed before this run
    local = _dist_info(tmp_path, "corp-local", "1.0")
    (local / "direct_url.json").write_text('{"url": "file:///src", "dir_info": {}}')
    built = _dist_info(tmp_path, "corp-built", "2.0", tags="cp311-cp311-linux_x86_64")
    fetched = [_fetched("corp_top-1.0-py3-none-any.whl"), _fetched("corp_top-1.0.tar.gz"),
               _fetched("corp_old-1.0-py3-none-any.whl"),
               _fetched("corp_local-1.0-py3-none-any.whl"),
               _fetched("corp_built-2.0-py3-none-any.whl"),  # tags differ: not this one
               _fetched("corp-built-2.0.tar.gz"),  # ... but its sdist is
               _fetched("unrelated-1.0-py3-none-any.whl")]
    matched = {d.path.name: f.filename
               for d, f in provenance.match(fetched, provenance.dist_infos(tmp_path), since)}
    assert matched == {top.name: "corp_top-1.0-py3-none-any.whl",
                       built.name: "corp-built-2.0.tar.gz"}


def test_version_spellings_match(tmp_path):
    info = _dist_info(tmp_path, "corp-x", "1.0.0.rc1")
    matched = provenance.match([_fetched("corp_x-1.0.0rc1-py3-none-any.whl")],
                               provenance.dist_infos(tmp_path), time.time() - 1)
    assert [d.path for d, _ in matched] == [info]


def test_write_adds_the_file_and_its_record_row(tmp_path):
    info = _dist_info(tmp_path, "corp-top", "1.0")
    (info / "RECORD").chmod(0o640)
    fetched = _fetched("corp_top-1.0-py3-none-any.whl")
    dist = Dist(info, "corp-top", "1.0")
    provenance.write(dist, fetched)
    provenance.write(dist, fetched)  # again: still one row
    data = (info / "provenance_url.json").read_bytes()
    assert json.loads(data) == {"url": fetched.url,
                                "archive_info": {"hashes": {"sha256": "a" * 64}},
                                "index_url": CORP.url}
    rows = list(csv.reader((info / "RECORD").read_text().splitlines()))
    mine = [r for r in rows if r[0] == f"{info.name}/provenance_url.json"]
    assert mine == [provenance.record_line(f"{info.name}/provenance_url.json", data)]
    assert [r[0] for r in rows][:2] == [f"{info.name}/METADATA", f"{info.name}/RECORD"]
    assert (info / "RECORD").stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in info.iterdir()) == [
        "METADATA", "RECORD", "WHEEL", "provenance_url.json"]  # no temporary file left


def test_write_replaces_a_hard_linked_record_instead_of_changing_it(tmp_path):
    """uv links files from its cache: the cached copy must stay as it was."""
    info = _dist_info(tmp_path / "site", "corp-top", "1.0")
    cached = tmp_path / "cache-RECORD"
    os.link(info / "RECORD", cached)
    before = cached.read_bytes()
    provenance.write(Dist(info, "corp-top", "1.0"), _fetched("corp_top-1.0-py3-none-any.whl"))
    assert cached.read_bytes() == before
    assert (info / "RECORD").read_bytes() != before


def test_a_failed_write_is_a_warning(tmp_path):
    info = _dist_info(tmp_path, "corp-top", "1.0")
    (info / "RECORD").unlink()
    recorder = Recorder()
    recorder.add(_fetched("corp_top-1.0-py3-none-any.whl"))
    warnings: list[str] = []
    assert provenance.write_installed(recorder, [tmp_path], time.time() - 1,
                                      warnings.append) == []
    assert len(warnings) == 1 and "corp_top-1.0.dist-info" in warnings[0]
    assert not (info / "provenance_url.json").exists()


def test_site_dirs_of_a_venv_without_starting_it(tmp_path):
    (tmp_path / "pyvenv.cfg").write_text("version = 3.11.4\n")
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    assert provenance.site_dirs(str(tmp_path / "bin" / "python")) == [site]


def test_a_damaged_record_is_a_warning(tmp_path):
    info = _dist_info(tmp_path, "corp-top", "1.0")
    (info / "RECORD").write_text('"' + "x" * 200_000 + '",,\n')  # csv.Error: field too large
    recorder = Recorder()
    recorder.add(_fetched("corp_top-1.0-py3-none-any.whl"))
    warnings: list[str] = []
    assert provenance.write_installed(recorder, [tmp_path], time.time() - 1,
                                      warnings.append) == []
    assert len(warnings) == 1 and "Error" in warnings[0]
