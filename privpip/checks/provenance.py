"""PEP 710 provenance: the files the local index streamed, recorded in the .dist-info of what
the installer then installed, and read back for `privpip audit --installed`.

    local index  Recorder.sink(): SHA-256 of each file while it streams (no second read);
                 Recorder.listed(): each page it served (a reference, no per-file work)
    after a run  write_installed(): provenance_url.json (+ its RECORD line) into each
                 .dist-info this run created whose name, version and wheel tags match a
                 streamed file, or else exactly one file a served page listed with a
                 SHA-256 (the installer took it from its cache); everything else is left
                 alone
    audit        read(): what a .dist-info says about where it came from

PEP 710 (draft) allows exactly three keys, ``url``, ``archive_info`` (``hashes``) and
``index_url``; the index's *name* is not stored, the audit finds it by matching ``index_url``
against the config, so a renamed index still matches and the file stays valid for any tool.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    import hashlib
    from collections.abc import Mapping

    from privpip.localindex.model import Upstream
    from privpip.localindex.pages import Page
    from privpip.localindex.routing import Target

FILE = "provenance_url.json"


class Fetched(NamedTuple):
    """One file the local index streamed in full, or (``listed``) one a page it served
    listed, with the SHA-256 that page declared ("" when it declared none)."""

    filename: str
    url: str  # the upstream file URL: no userinfo, query or fragment
    index_name: str  # the upstream's name
    index_url: str  # the upstream's simple root, without credentials
    sha256: str
    listed: bool = False


def clean_url(url: str) -> str:
    """``url`` without userinfo, query and fragment: the recorded URL is read by other tools
    and people, and a query may carry a signature (object storage behind an index)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


class Sink:
    """Hashes one file's bytes as they pass; ``done()`` once the body went out complete."""

    __slots__ = ("_recorder", "_hash", "_file")

    def __init__(self, recorder: Recorder, file: tuple[str, str, str, str]) -> None:
        import hashlib

        self._recorder = recorder
        self._hash: hashlib._Hash = hashlib.sha256()
        self._file = file

    def update(self, block: bytes) -> None:
        self._hash.update(block)  # releases the GIL for large blocks

    def done(self) -> None:
        self._recorder.add(Fetched(*self._file, self._hash.hexdigest()))


def _recordable(upstream: Upstream, url: str) -> str | None:
    """``url`` cleaned, or None when it cannot be recorded without a secret (the upstream's
    token inside the URL path)."""
    clean = clean_url(url)
    token = upstream.token.reveal() if upstream.token is not None else ""
    return None if token and token in clean else clean


class Recorder:
    """The files of one run that the local index streamed in full, by file name, and the
    pages it served (``pages``: False when the run may install files privpip cannot see,
    such as a local find-links directory's, so that a listed file proves nothing)."""

    def __init__(self, pages: bool = True) -> None:
        self._files: dict[str, Fetched] = {}
        self.pages = pages
        self._served: list[tuple[str, Page]] = []
        self._targets: Mapping[str, Target] = {}
        self._upstreams: Mapping[str, Upstream] = {}

    def sink(self, upstream: Upstream, url: str, filename: str) -> Sink | None:
        """A hashing sink for a file ``upstream`` serves at ``url``; None when its URL cannot
        be recorded without a secret."""
        clean = _recordable(upstream, url)
        return None if clean is None else Sink(self, (filename, clean, upstream.name,
                                                      upstream.url))

    def bind(self, targets: Mapping[str, Target], upstreams: Mapping[str, Upstream]) -> None:
        """The local index's file map and upstreams, read by ``listed_files`` after the run."""
        self._targets, self._upstreams = targets, upstreams

    def listed(self, name: str, page: Page) -> None:
        """The page the local index served for ``name`` (its file URLs local): kept as it
        is, resolved only after the run, so that a request costs one list append."""
        if self.pages:
            self._served.append((name, page))  # atomic under the GIL

    def served_pages(self) -> bool:
        return bool(self._served)

    def listed_files(self, wanted: Collection[tuple[str, str]] | None = None
                     ) -> list[Fetched]:
        """Every file the served pages listed (only those of ``wanted``, canonical name and
        normalized version, when given: pages of thousands of files exist), with its upstream
        URL and index and the SHA-256 the page declared ("" if none); a URL with a secret in
        it is left out."""
        from privpip.localindex.model import normalize

        versions_of: dict[str, set[str]] = {}
        for wanted_name, wanted_version in wanted or ():
            versions_of.setdefault(wanted_name, set()).add(wanted_version)
        normal: dict[str, str] = {}  # raw version -> normalized: a page repeats each version
        out: dict[Fetched, None] = {}  # a URL listed twice with two hashes stays twice
        for name, page in {id(p): (n, p) for n, p in self._served}.values():
            versions = versions_of.get(normalize(name)) if wanted is not None else None
            if wanted is not None and not versions:
                continue
            for file in page.files:
                if versions is not None:
                    raw = _raw_version(file.filename)
                    if raw not in normal:
                        normal[raw] = _normal_version(raw)
                    if normal[raw] not in versions:
                        continue
                target = self._targets.get(file.url.rsplit("/", 2)[-2])
                upstream = self._upstreams.get(target.index) if target is not None else None
                if target is None or upstream is None:
                    continue
                clean = _recordable(upstream, target.url)
                if clean is not None:
                    sha256 = dict(file.hashes).get("sha256", "").lower()
                    if len(sha256) != 64 or sha256.strip("0123456789abcdef"):
                        sha256 = ""  # not a SHA-256 digest: as if none was declared
                    out[Fetched(target.filename, clean, upstream.name, upstream.url, sha256,
                                listed=True)] = None
        return list(out)

    def add(self, fetched: Fetched) -> None:
        self._files[fetched.filename] = fetched  # one dict store: atomic under the GIL

    def files(self) -> list[Fetched]:
        return list(self._files.values())


# --- after the installer succeeded ------------------------------------------------------------


class Dist(NamedTuple):
    """An installed distribution's .dist-info directory."""

    path: Path
    name: str  # canonical (PEP 503)
    version: str  # as written in the directory name


def dist_infos(site_dir: Path) -> list[Dist]:
    """The .dist-info directories of ``site_dir``, read from their names only (fast)."""
    from packaging.utils import canonicalize_name

    found = []
    try:
        entries = list(os.scandir(site_dir))
    except OSError:
        return []
    for entry in entries:
        if entry.name.endswith(".dist-info") and entry.is_dir():
            name, sep, version = entry.name[: -len(".dist-info")].rpartition("-")
            if sep and name:
                found.append(Dist(Path(entry.path), canonicalize_name(name), version))
    return found


def _file_key(filename: str) -> tuple[str, str, frozenset[str] | None] | None:
    """(canonical name, normalized version, wheel tags or None for an sdist) of a file name."""
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    try:
        if filename.endswith(".whl"):
            name, version, _build, tags = parse_wheel_filename(filename)
            return name, str(version), frozenset(str(t) for t in tags)
        name, version = parse_sdist_filename(filename)
        return name, str(version), None
    except (InvalidWheelFilename, InvalidSdistFilename, ValueError):
        return None


def _raw_version(filename: str) -> str:
    """The version part of a wheel or sdist file name as written ("" for anything else),
    without parsing the rest (tags, name): a cheap first sieve over a long page."""
    if filename.endswith(".whl"):
        parts = filename.split("-")  # the wheel spec escapes "-" inside name and version
        return parts[1] if len(parts) in (5, 6) else ""
    for ext in (".tar.gz", ".zip"):  # what parse_sdist_filename reads
        if filename.endswith(ext):
            return filename[: -len(ext)].rpartition("-")[2]
    return ""


def _wheel_tags(dist_info: Path) -> frozenset[str]:
    try:
        text = (dist_info / "WHEEL").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return frozenset()
    return frozenset(line.partition(":")[2].strip() for line in text.splitlines()
                     if line.lower().startswith("tag:"))


def _normal_version(version: str) -> str:
    from packaging.version import InvalidVersion, Version

    try:
        return str(Version(version))
    except InvalidVersion:
        return version


def _by_key(files: Iterable[Fetched]
            ) -> dict[tuple[str, str], list[tuple[Fetched, frozenset[str] | None]]]:
    by_key: dict[tuple[str, str], list[tuple[Fetched, frozenset[str] | None]]] = {}
    for item in files:
        key = _file_key(item.filename)
        if key is not None:
            by_key.setdefault(key[:2], []).append((item, key[2]))
    return by_key


def _fits(dist: Dist, candidates: list[tuple[Fetched, frozenset[str] | None]]
          ) -> list[Fetched]:
    """The candidates ``dist`` may have come from: the wheels whose file-name tags are the
    ones its WHEEL lists, else (a wheel built locally) the sdists."""
    if any(tags is not None for _f, tags in candidates):
        installed_tags = _wheel_tags(dist.path)
        wheels = [f for f, tags in candidates if tags is not None and tags == installed_tags]
        if wheels:
            return wheels
    return [f for f, tags in candidates if tags is None]


def _changed_since(directory: Path, since: float) -> bool:
    try:
        return directory.stat().st_mtime >= since
    except OSError:
        return False


def _installed_now(dist: Dist, since: float) -> bool:
    try:
        return (dist.path.stat().st_mtime >= since
                and not (dist.path / "direct_url.json").exists())
    except OSError:
        return False


def match(fetched: Sequence[Fetched], dists: Iterable[Dist], since: float,
          listed: Sequence[Fetched] = (), why: Callable[[Dist, str], None] | None = None
          ) -> list[tuple[Dist, Fetched]]:
    """Which installed distributions came from which file.

    A distribution matches a file when this run installed it (its .dist-info changed at or
    after ``since``, and it has no PEP 610 direct_url.json: a local path, VCS or URL install),
    name and version agree, and for a wheel the tags its WHEEL file lists are the file name's
    (a wheel built locally from that name's sdist matches the sdist instead). A wheel wins
    over an sdist of the same version.

    A streamed file wins. Else the files a served page ``listed`` (the installer took the
    file from its own cache): only when exactly one fits, or all that fit are the same URL
    of the same index with the same SHA-256, and that page declared a SHA-256. Otherwise
    nothing is recorded, and ``why`` hears the reason."""
    streamed, pages = _by_key(fetched), _by_key(listed)
    out = []
    for dist in dists:
        key = (dist.name, _normal_version(dist.version))
        if key not in streamed and key not in pages or not _installed_now(dist, since):
            continue
        chosen = _fits(dist, streamed.get(key, []))
        if chosen:
            out.append((dist, chosen[0]))
            continue
        fits = set(_fits(dist, pages.get(key, [])))
        if len(fits) == 1 and next(iter(fits)).sha256:
            out.append((dist, fits.pop()))
        elif why is not None and len(fits) == 1:
            why(dist, "the index's page declared no sha256 for the file the installer took "
                "from its cache, and PEP 710 needs one")
        elif why is not None and fits:
            why(dist, f"{len(fits)} files listed this run fit it ("
                + ", ".join(sorted({f.index_name for f in fits})) + "), with different "
                "URLs or hashes: which one the installer's cache held is not known")
    return out


def document(fetched: Fetched) -> dict[str, Any]:
    """The provenance_url.json content (PEP 710: exactly url, archive_info, index_url)."""
    return {"url": fetched.url, "archive_info": {"hashes": {"sha256": fetched.sha256}},
            "index_url": fetched.index_url}


def record_line(relative: str, data: bytes) -> list[str]:
    """A RECORD row (PEP 376 / the wheel spec): path, sha256=urlsafe-b64 digest, size."""
    import base64
    import hashlib

    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return [relative, f"sha256={digest}", str(len(data))]


def write(dist: Dist, fetched: Fetched) -> None:
    """provenance_url.json into ``dist``, and its row into RECORD (so uninstall removes it).

    RECORD first: the file is never there without the row that lets uninstall remove it.
    Creating a file costs far more than the rest on many file systems (0.2 ms each here), so
    the common case creates one: the row is appended to a RECORD that has no such row and
    no other name (a RECORD hard-linked from uv's cache is replaced by a new file instead,
    never changed), and provenance_url.json, new in a fresh install, is written in place."""
    import csv
    import io
    import json

    from privpip.core import atomic

    data = json.dumps(document(fetched), indent=2) + "\n"
    record = dist.path / "RECORD"
    text = record.read_text(encoding="utf-8")
    relative = f"{dist.path.name}/{FILE}"
    rows = list(csv.reader(io.StringIO(text)))
    kept = [row for row in rows if row and row[0] != relative]
    row = io.StringIO()
    csv.writer(row, lineterminator="\n").writerow(record_line(relative, data.encode("utf-8")))
    state = record.stat()
    mode = state.st_mode & 0o777
    if state.st_nlink == 1 and len(kept) == len(rows):
        with open(record, "a", encoding="utf-8", newline="") as handle:
            handle.write(("" if not text or text.endswith("\n") else "\n") + row.getvalue())
    else:
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(kept)
        atomic.replace(record, out.getvalue() + row.getvalue(), mode, durable=False)
    target = dist.path / FILE
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL
                     | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:  # a reinstall over an earlier record, or a link: a new file
        atomic.replace(target, data, mode, durable=False)
        return
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        if hasattr(os, "fchmod"):  # POSIX; elsewhere the mode stays as created
            os.fchmod(fd, mode)
        handle.write(data)


def write_installed(recorder: Recorder, site_dirs: Sequence[Path], since: float,
                    warn: Callable[[str], None], why: Callable[[Dist, str], None] | None = None
                    ) -> list[tuple[Dist, Fetched]]:
    """Record provenance in every distribution of ``site_dirs`` this run installed from a
    streamed file or a listed one (see match); a failure to write one is a warning, never
    the run's failure."""
    import csv

    fetched = recorder.files()
    if not fetched and not recorder.served_pages():
        return []
    # A .dist-info this run created or replaced changed its site directory too: where none
    # changed (a dry run, everything already installed) nothing is read, packaging included.
    dists = [d for site in dict.fromkeys(site_dirs) if _changed_since(site, since)
             for d in dist_infos(site)]
    # Only the files of the names and versions installed now are read.
    listed = recorder.listed_files({(d.name, _normal_version(d.version)) for d in dists
                                    if _installed_now(d, since)})
    written = []
    for dist, item in match(fetched, dists, since, listed, why):
        try:
            write(dist, item)
        except (OSError, UnicodeDecodeError, ValueError, csv.Error) as exc:
            warn(f"privpip: could not record where {dist.path.name} came from "
                 f"({type(exc).__name__}: {getattr(exc, 'strerror', None) or exc})")
            continue
        written.append((dist, item))
    return written


class Ahead:
    """What recording provenance needs once the installer exits, prepared while it runs: the
    imports (packaging's tags module alone takes about 7 ms) and where it installs (for an
    interpreter outside a virtual environment, one short child of its own). After the
    installer these cost the user's time; beside it they cost nothing but idle CPU."""

    def __init__(self, installs_into: Callable[[], Sequence[Path]]) -> None:
        self._installs_into = installs_into
        self._thread: Any = None
        self._dirs: Sequence[Path] | None = None

    def start(self, after: Callable[[], object] | None = None) -> None:
        """Begin in a daemon thread, once ``after`` returns (the local index's server is
        built: that one is on the installer's path, this is not)."""
        import threading

        def prepare() -> None:
            from privpip.core.signals import leave_signals_to_main_thread

            leave_signals_to_main_thread()
            try:
                if after is not None:
                    after()
                import csv  # noqa: F401 - for write() and write_installed()
                import json  # noqa: F401

                import packaging.utils  # noqa: F401 - dist_infos(), _file_key()
                import packaging.version  # noqa: F401

                self._dirs = list(self._installs_into())
            except Exception:  # noqa: BLE001, S110 - installs_into() tries again, and reports
                pass

        self._thread = threading.Thread(target=prepare, name="privpip-provenance", daemon=True)
        self._thread.start()

    def installs_into(self) -> Sequence[Path]:
        """The site directories: the prepared ones, or found now if preparing failed."""
        if self._thread is not None:
            self._thread.join()
        return self._dirs if self._dirs is not None else self._installs_into()


_SITE_QUERY = ("import site, sys, sysconfig\n"
               "p = sysconfig.get_paths()\n"
               "print(p['purelib']); print(p['platlib'])\n"
               "print(site.getusersitepackages())\n")


def site_dirs(python: str) -> list[Path]:
    """Where ``python``'s installer puts distributions: purelib, platlib and the user site.

    A virtual environment (pyvenv.cfg beside its bin/) is read from its layout without
    starting it; any other interpreter is asked (one short child: sysconfig knows the
    distribution-specific layouts, dist-packages included)."""
    import glob
    import subprocess

    prefix = Path(python).parent.parent
    if (prefix / "pyvenv.cfg").is_file():
        # lib64 is often a link to lib: one directory, read once.
        found = dict.fromkeys(Path(os.path.realpath(p)) for pattern in (
            "lib/python*/site-packages", "lib64/python*/site-packages", "Lib/site-packages")
            for p in sorted(glob.glob(str(prefix / pattern))))
        if found:
            return list(found)
    try:
        out = subprocess.run([python, "-I", "-c", _SITE_QUERY], capture_output=True, text=True,
                             timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [Path(line) for line in out.splitlines() if line.strip()]
