"""privpip.checks.provenance: the streamed-file records, matching them to installed distributions,
and the atomic write of provenance_url.json with its RECORD row."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import time
from pathlib import Path

from privpip.checks import provenance
from privpip.checks.provenance import Dist, Fetched, Recorder
from privpip.core.secret import Secret
from privpip.localindex.model import Upstream

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


def test_write_appends_to_a_record_of_its_own_and_creates_one_file(tmp_path):
    # Creating files is what costs: the common case appends the row and creates only
    # provenance_url.json. A RECORD without a final newline still gets a row of its own.
    info = _dist_info(tmp_path, "corp-top", "1.0")
    record = info / "RECORD"
    record.write_text(record.read_text().rstrip("\n"))
    inode = record.stat().st_ino
    provenance.write(Dist(info, "corp-top", "1.0"), _fetched("corp_top-1.0-py3-none-any.whl"))
    assert record.stat().st_ino == inode  # appended in place
    rows = list(csv.reader(record.read_text().splitlines()))
    assert rows[-1][0] == f"{info.name}/provenance_url.json" and len(rows[-2]) == 3
    assert record.read_text().endswith("\n")


def test_write_replaces_a_hard_linked_provenance_file_instead_of_changing_it(tmp_path):
    info = _dist_info(tmp_path / "site", "corp-top", "1.0")
    (info / "provenance_url.json").write_text('{"old": true}\n')
    cached = tmp_path / "cache-provenance"
    os.link(info / "provenance_url.json", cached)
    provenance.write(Dist(info, "corp-top", "1.0"), _fetched("corp_top-1.0-py3-none-any.whl"))
    assert cached.read_text() == '{"old": true}\n'
    assert json.loads((info / "provenance_url.json").read_text())["url"].endswith(".whl")


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


def test_a_site_directory_nothing_was_installed_into_is_not_read(tmp_path):
    # A dry run, or everything already satisfied: the directory itself did not change, so
    # its .dist-info directories are not read at all (nor packaging imported for them).
    info = _dist_info(tmp_path, "corp-top", "1.0")
    recorder = Recorder()
    recorder.add(_fetched("corp_top-1.0-py3-none-any.whl"))
    since = time.time() - 1
    os.utime(tmp_path, (since - 60, since - 60))
    assert provenance.write_installed(recorder, [tmp_path], since, print) == []
    assert not (info / "provenance_url.json").exists()
    os.utime(tmp_path)  # the control: an install changed it
    assert len(provenance.write_installed(recorder, [tmp_path], since, print)) == 1
    assert (info / "provenance_url.json").exists()


def test_site_dirs_of_a_venv_without_starting_it(tmp_path):
    (tmp_path / "pyvenv.cfg").write_text("version = 3.11.4\n")
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    assert provenance.site_dirs(str(tmp_path / "bin" / "python")) == [site]


def test_a_lib64_link_is_one_site_directory(tmp_path):
    # venv makes lib64 a link to lib on many Linux systems: read once, recorded once.
    (tmp_path / "pyvenv.cfg").write_text("version = 3.11.4\n")
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (tmp_path / "lib64").symlink_to("lib")
    assert provenance.site_dirs(str(tmp_path / "bin" / "python")) == [site.resolve()]


def test_a_damaged_record_is_a_warning(tmp_path):
    info = _dist_info(tmp_path, "corp-top", "1.0")
    (info / "RECORD").write_text('"' + "x" * 200_000 + '",,\n')  # csv.Error: field too large
    recorder = Recorder()
    recorder.add(_fetched("corp_top-1.0-py3-none-any.whl"))
    warnings: list[str] = []
    assert provenance.write_installed(recorder, [tmp_path], time.time() - 1,
                                      warnings.append) == []
    assert len(warnings) == 1 and "Error" in warnings[0]


OTHER = Upstream("other", "https://other.example/simple/")
SHA_A, SHA_B = "a" * 64, "b" * 64


def _served(recorder: Recorder, *listings: tuple[Upstream, list[tuple[str, str]]]) -> None:
    """Pages as the local index serves them (routing.rewrite's local URLs), one per upstream,
    each listing (filename, declared sha256 or "")."""
    from privpip.localindex import routing
    from privpip.localindex.pages import File, Page

    targets: dict[str, routing.Target] = {}
    for upstream, files in listings:
        page = Page("corp-x", tuple(File(name, f"{upstream.url}files/{name}",
                                         (("sha256", sha),) if sha else ())
                                    for name, sha in files))
        rewritten, found = routing.rewrite(page, upstream)
        targets.update(found)
        recorder.listed("Corp_X", rewritten)
    recorder.bind(targets, {u.name: u for u, _ in listings})


def _match_listed(tmp_path: Path, recorder: Recorder, tags: str = "py3-none-any"
                  ) -> tuple[list[tuple[Dist, Fetched]], list[str]]:
    _dist_info(tmp_path, "corp-x", "1.0", tags)
    reasons: list[str] = []
    matched = provenance.match(recorder.files(), provenance.dist_infos(tmp_path),
                               time.time() - 5, recorder.listed_files({("corp-x", "1.0")}),
                               lambda _dist, why: reasons.append(why))
    # Only the files of the names and versions installed are read.
    assert recorder.listed_files({("corp-y", "1.0"), ("corp-x", "2.0")}) == []
    return matched, reasons


def test_a_listed_file_with_a_declared_sha256_is_recorded_by_wheel_tags(tmp_path):
    recorder = Recorder()
    _served(recorder, (CORP, [("corp_x-1.0-py3-none-any.whl", SHA_A.upper()),
                              ("corp_x-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", SHA_B),
                              ("corp_x-1.0.tar.gz", SHA_B)]))
    [(dist, item)], reasons = _match_listed(tmp_path, recorder)
    assert reasons == []
    assert item == Fetched("corp_x-1.0-py3-none-any.whl",
                           "https://pkgs.example.com/simple/files/corp_x-1.0-py3-none-any.whl",
                           "corp", CORP.url, SHA_A, listed=True)
    assert provenance.document(item)["archive_info"] == {"hashes": {"sha256": SHA_A}}


def test_a_streamed_file_wins_over_a_listed_one(tmp_path):
    recorder = Recorder()
    _served(recorder, (CORP, [("corp_x-1.0-py3-none-any.whl", SHA_A)]))
    sink = recorder.sink(CORP, "https://pkgs.example.com/simple/files/corp_x-1.0-py3-none-any.whl",
                         "corp_x-1.0-py3-none-any.whl")
    assert sink is not None
    sink.update(b"wheel")
    sink.done()
    [(_dist, item)], _ = _match_listed(tmp_path, recorder)
    assert not item.listed and item.sha256 == hashlib.sha256(b"wheel").hexdigest()


def test_listed_files_that_cannot_be_told_apart_or_lack_a_hash_record_nothing(tmp_path):
    # Two fitting wheels from two indexes (a merged page, unsafe-best-match), hashes differ.
    recorder = Recorder()
    _served(recorder, (CORP, [("corp_x-1.0-py3-none-any.whl", SHA_A)]),
            (OTHER, [("corp_x-1.0-py3-none-any.whl", SHA_B)]))
    matched, reasons = _match_listed(tmp_path / "two", recorder)
    assert matched == [] and "2 files listed this run fit it (corp, other)" in reasons[0]
    # No sha256 declared (or not a SHA-256 digest): PEP 710 needs one.
    for sha in ("", "not-a-digest"):
        recorder = Recorder()
        _served(recorder, (CORP, [("corp_x-1.0-py3-none-any.whl", sha)]))
        matched, reasons = _match_listed(tmp_path / f"none{sha}", recorder)
        assert matched == [] and "declared no sha256" in reasons[0]
    # A wheel whose tags no listed file has, and no sdist: not this run's listing.
    recorder = Recorder()
    _served(recorder, (CORP, [("corp_x-1.0-py3-none-any.whl", SHA_A)]))
    assert _match_listed(tmp_path / "tags", recorder, "cp312-cp312-win_amd64") == ([], [])


def test_pages_are_not_kept_when_the_run_has_find_links(tmp_path):
    recorder = Recorder(pages=False)
    _served(recorder, (CORP, [("corp_x-1.0-py3-none-any.whl", SHA_A)]))
    assert recorder.listed_files() == []
    assert _match_listed(tmp_path, recorder) == ([], [])


def test_a_listed_url_carrying_the_token_is_left_out():
    recorder = Recorder()
    from privpip.localindex import routing
    from privpip.localindex.pages import File, Page

    page = Page("corp-x", (File("corp_x-1.0.tar.gz", f"https://pkgs.example.com/{TOKEN}/x.tar.gz",
                                (("sha256", SHA_A),)),))
    rewritten, targets = routing.rewrite(page, CORP)
    recorder.listed("corp-x", rewritten)
    recorder.bind(targets, {"corp": CORP})
    assert recorder.listed_files() == []


def test_ahead_finds_the_site_directories_beside_the_child_once_the_server_is_up(tmp_path):
    import threading

    threads: list[str] = []
    server_up = threading.Event()

    def find() -> list[Path]:
        threads.append(threading.current_thread().name)
        return [tmp_path]

    ahead = provenance.Ahead(find)
    ahead.start(after=server_up.wait)
    assert not server_up.wait(0.2) and threads == []  # the local index's server goes first
    server_up.set()
    assert ahead.installs_into() == [tmp_path] and threads == ["privpip-provenance"]


def test_ahead_that_failed_finds_them_after_the_child(tmp_path):
    import threading

    threads: list[str] = []

    def find() -> list[Path]:
        threads.append(threading.current_thread().name)
        if len(threads) == 1:
            raise OSError("not yet")
        return [tmp_path]

    ahead = provenance.Ahead(find)
    ahead.start()
    assert ahead.installs_into() == [tmp_path]
    assert threads == ["privpip-provenance", threading.current_thread().name]


def test_one_failed_record_is_a_warning_and_the_others_are_written(tmp_path):
    infos = [_dist_info(tmp_path, f"corp-p{n}", "1.0") for n in range(9)]
    (infos[4] / "RECORD").unlink()  # this one fails: a warning in its place, the rest written
    recorder = Recorder()
    for n in range(9):
        recorder.add(_fetched(f"corp_p{n}-1.0-py3-none-any.whl"))
    warnings: list[str] = []
    written = provenance.write_installed(recorder, [tmp_path], time.time() - 1,
                                         warnings.append)
    assert sorted(d.path.name for d, _ in written) == sorted(
        i.name for n, i in enumerate(infos) if n != 4)
    assert len(warnings) == 1 and infos[4].name in warnings[0]
    assert all((i / "provenance_url.json").exists() == (n != 4) for n, i in enumerate(infos))
