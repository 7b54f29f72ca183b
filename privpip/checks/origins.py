"""`privpip audit --installed`: where each distribution of an environment came from, read from
its .dist-info (PEP 710 provenance_url.json, PEP 610 direct_url.json), and what is wrong.

Offline by design: it reads files, nothing else. The findings it can check that way:

- a name an index owns (its ``packages``) recorded from another index, installed from a
  direct URL or path (not editable), or installed with no record at all;
- a provenance_url.json that differs from the hash its RECORD row gives (changed since the
  install), or that cannot be read.

Whether a name the private indexes *list* (without ``packages``) came from elsewhere needs
the indexes' listings: `privpip audit` (without --installed) asks them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from privpip.checks.provenance import FILE, clean_url, dist_infos, record_line
from privpip.config import Index
from privpip.core import identity

_HEX = frozenset("0123456789abcdef")


class Origin(NamedTuple):
    """One installed distribution and where it came from."""

    name: str
    version: str
    kind: str  # "index" (provenance_url.json), "direct" (direct_url.json) or "unknown"
    index_name: str | None  # the configured index's name; None when no configured index matches
    index_url: str | None
    url: str | None
    sha256: str | None
    why: str | None  # for "unknown" and "direct": what the .dist-info says instead
    finding: str | None

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "origin": self.kind,
                "index": self.index_name, "index_url": self.index_url, "url": self.url,
                "sha256": self.sha256, "why": self.why, "finding": self.finding}


def _headers(info: Path) -> tuple[str | None, str | None]:
    """Name and Version from METADATA's header block (the description after it is not read)."""
    name = version = None
    try:
        with open(info / "METADATA", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if not line.strip():
                    break
                key, _, value = line.partition(":")
                if key == "Name":
                    name = value.strip()
                elif key == "Version":
                    version = value.strip()
                if name and version:
                    break
    except OSError:
        pass
    return name, version


def _read_json(path: Path) -> tuple[bytes | None, Any]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, None
    except OSError:
        return b"", None
    try:
        return data, json.loads(data)
    except ValueError:
        return data, None


def _provenance(value: Any) -> tuple[str, str, str] | None:
    """(url, index_url, sha256) of a valid PEP 710 document, else None."""
    if not isinstance(value, dict):
        return None
    url, index_url = value.get("url"), value.get("index_url")
    archive = value.get("archive_info")
    hashes = archive.get("hashes") if isinstance(archive, dict) else None
    sha = hashes.get("sha256") if isinstance(hashes, dict) else None
    if not (isinstance(url, str) and isinstance(index_url, str) and isinstance(sha, str)
            and len(sha) == 64 and set(sha) <= _HEX):
        return None
    return url, index_url, sha


def _record_row(info: Path, relative: str) -> list[str] | None:
    """RECORD's row for ``relative``; only the lines naming it are parsed."""
    import csv

    try:
        text = (info / "RECORD").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    lines = [line for line in text.splitlines() if relative in line]
    try:
        return next((row for row in csv.reader(lines) if row and row[0] == relative), None)
    except csv.Error:
        return None  # a damaged RECORD: nothing to compare with


def _index_named(index_url: str, indexes: Sequence[Index], public_index: str) -> str | None:
    for index in indexes:
        if identity.same_index(index.url, index_url):
            return index.name
    return "public" if identity.same_index(public_index, index_url) else None


def _owner(indexes: Sequence[Index], name: str) -> Index | None:
    from privpip.checks.confusion import owner
    from privpip.core.pipargs import canonical

    return owner(indexes, canonical(name))


def origin_of(info: Path, indexes: Sequence[Index], public_index: str) -> Origin:
    """Where the distribution of ``info`` (a .dist-info directory) came from."""
    name, version = _headers(info)
    if not name or not version:
        stem = info.name[: -len(".dist-info")]
        dir_name, _, dir_version = stem.rpartition("-")
        name, version = name or dir_name, version or dir_version
    owner = _owner(indexes, name)
    data, document = _read_json(info / FILE)
    if data is not None:
        found = _provenance(document)
        if found is None:
            return Origin(name, version, "unknown", None, None, None, None,
                          f"{FILE} cannot be read as PEP 710",
                          f"{FILE} is not a valid PEP 710 record (changed or damaged)")
        url, index_url, sha = found
        index = _index_named(index_url, indexes, public_index)
        finding = None
        row = _record_row(info, f"{info.name}/{FILE}")
        if row is not None and len(row) > 1 and row[1] and \
                record_line(row[0], data)[1] != row[1]:
            finding = f"{FILE} changed since the install (its RECORD hash differs)"
        elif owner is not None and not identity.same_name(owner.name, index or ""):
            shown = index or clean_url(index_url)
            finding = f"owned by index {owner.name} (packages), but it came from {shown}"
        return Origin(name, version, "index", index, clean_url(index_url), clean_url(url), sha,
                      None, finding)
    _, direct = _read_json(info / "direct_url.json")
    if isinstance(direct, dict) and isinstance(direct.get("url"), str):
        url = clean_url(direct["url"])
        dir_info = direct.get("dir_info")
        editable = isinstance(dir_info, dict) and dir_info.get("editable") is True
        kind = ("an editable install of" if editable else
                "a VCS checkout," if "vcs_info" in direct else
                "a local directory," if isinstance(dir_info, dict) else "a direct URL,")
        finding = None
        if owner is not None and not editable:
            finding = f"owned by index {owner.name} (packages), but installed from {url}"
        return Origin(name, version, "direct", None, None, url, _direct_sha(direct),
                      f"installed from {kind} {url} (direct_url.json)", finding)
    why = f"installed by {_installer(info)} without privpip's local index (no {FILE})"
    finding = None
    if owner is not None:
        finding = (f"owned by index {owner.name} (packages), but nothing records that it "
                   "came from there")
    return Origin(name, version, "unknown", None, None, None, None, why, finding)


def _direct_sha(direct: dict[str, Any]) -> str | None:
    archive = direct.get("archive_info")
    if not isinstance(archive, dict):
        return None
    hashes = archive.get("hashes")
    if isinstance(hashes, dict) and isinstance(hashes.get("sha256"), str):
        return str(hashes["sha256"])
    legacy = archive.get("hash")
    if isinstance(legacy, str) and legacy.startswith("sha256="):
        return legacy.removeprefix("sha256=")
    return None


def _installer(info: Path) -> str:
    try:
        text = (info / "INSTALLER").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return "an unknown installer"
    return text.splitlines()[0][:40] if text else "an unknown installer"


def audit(site_dirs: Sequence[Path], indexes: Sequence[Index], public_index: str
          ) -> list[Origin]:
    """Every distribution in ``site_dirs`` (the first one found wins, as on sys.path)."""
    seen: set[str] = set()
    out = []
    for site in dict.fromkeys(site_dirs):
        for dist in sorted(dist_infos(site), key=lambda d: d.path.name):
            if dist.name in seen:
                continue
            seen.add(dist.name)
            out.append(origin_of(dist.path, indexes, public_index))
    return sorted(out, key=lambda o: (o.name.lower(), o.version))


def _index_column(origin: Origin) -> str:
    if origin.kind != "index":
        return origin.kind
    # An index privpip's config does not name (taken over from pip's settings): its host.
    return origin.index_name or identity.hostname(origin.index_url or "") or "?"


def text_lines(origins: Sequence[Origin], where: str) -> list[str]:
    """The report for a terminal: one line per distribution, then the findings."""
    rows = [(o.name, o.version, _index_column(o),
             f"{o.url}  sha256:{(o.sha256 or '')[:12]}" if o.kind == "index" else o.why or "")
            for o in origins]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in
              enumerate(("NAME", "VERSION", "INDEX"))]
    lines = [f"environment: {where}"]
    lines.append("  ".join(h.ljust(w) for h, w in zip(("NAME", "VERSION", "INDEX"), widths,
                                                       strict=True)) + "  SOURCE")
    for row in rows:
        lines.append("  ".join(v.ljust(w) for v, w in zip(row[:3], widths, strict=True))
                     + "  " + row[3])
    findings = [o for o in origins if o.finding]
    counts = {k: sum(o.kind == k for o in origins) for k in ("index", "direct", "unknown")}
    lines.append(f"{len(origins)} distributions: {counts['index']} with a provenance record, "
                 f"{counts['direct']} from a direct URL or path, {counts['unknown']} unknown")
    lines += [f"finding: {o.name} {o.version}: {o.finding}" for o in findings]
    return lines


def environment_dirs(python: str | None, env: Mapping[str, str]) -> tuple[str, list[Path]]:
    """The target interpreter (as `install` chooses it) and its site directories."""
    from privpip.checks import provenance
    from privpip.run import target as target_mod

    target = target_mod.find(python, env)
    return target.python, provenance.site_dirs(target.python)


def dumps(origins: Sequence[Origin]) -> str:
    return json.dumps([o.as_json() for o in origins], indent=2)


