"""Simple-API pages: parsing PEP 503 HTML / PEP 691 JSON into one model, and rendering it; the
one reader of simple pages (the local index, and `audit` and the confusion check through
confusion.py).

The model keeps what an installer reads, exactly as the upstream sent it: the hashes (from the
URL fragment or the JSON ``hashes``), ``requires-python``, yanked and its reason, the PEP 658/714
metadata flags under both spellings, ``gpg-sig``, ``size`` and ``upload-time`` (PEP 700), any
other JSON file keys, and the page-level PEP 708 ``tracks`` / ``alternate-locations``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from html import escape
from html.parser import HTMLParser
from typing import Any, Literal
from urllib.parse import unquote, urljoin, urlsplit

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
# What we ask an upstream for: JSON first (every field explicit), HTML for older servers.
UPSTREAM_ACCEPT = f"{JSON_TYPE}, {HTML_TYPE};q=0.2, text/html;q=0.01"

Hashes = tuple[tuple[str, str], ...]
# A PEP 658/714 metadata flag: absent (None), a bare true/false, or the metadata file's hashes.
MetadataFlag = bool | Hashes | None


class PageError(ValueError):
    """An upstream answered with something that is not a simple-API project page."""


@dataclass(frozen=True)
class File:
    """One distribution file on a project page."""

    filename: str
    url: str  # absolute, without the hash fragment
    hashes: Hashes = ()
    requires_python: str | None = None
    yanked: bool | str = False  # a string is the reason (and means yanked)
    core_metadata: MetadataFlag = None
    dist_info_metadata: MetadataFlag = None
    gpg_sig: bool | None = None
    size: int | None = None
    upload_time: str | None = None
    extra: tuple[tuple[str, str], ...] = ()  # other PEP 691 file keys, values as JSON text


@dataclass(frozen=True)
class Page:
    """A project page: its name as the upstream spelled it, its files and its PEP 708 meta."""

    name: str
    files: tuple[File, ...] = ()
    api_version: str = "1.0"
    tracks: tuple[str, ...] = ()
    alternate_locations: tuple[str, ...] = ()
    versions: tuple[str, ...] | None = None  # PEP 700, JSON pages of api-version 1.1+
    url: str = ""  # where it was fetched from (credential-free); "" when unknown
    extra: tuple[tuple[str, str], ...] = field(default=())  # unknown top-level JSON keys

    def with_files(self, files: tuple[File, ...]) -> Page:
        return replace(self, files=files)


def _hashes_from_fragment(fragment: str) -> Hashes:
    name, sep, value = fragment.partition("=")
    if sep and name and value and name.isalnum():
        return ((name.lower(), value),)
    return ()


def _flag_from_attr(value: str | None) -> MetadataFlag:
    if value is None:
        return None
    if value.strip().lower() == "true":
        return True
    if value.strip().lower() == "false":
        return False
    hashes = _hashes_from_fragment(value.strip())
    return hashes or True  # PEP 658: any other value still says "the file exists"


def _flag_to_attr(flag: MetadataFlag) -> str | None:
    if flag is None:
        return None
    if isinstance(flag, bool):
        return "true" if flag else "false"
    name, value = flag[0]
    return f"{name}={value}"


def _flag_from_json(value: object) -> MetadataFlag:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, dict):
        return tuple((str(k), str(v)) for k, v in value.items())
    raise PageError(f"bad metadata flag {value!r}")


def _flag_to_json(flag: MetadataFlag) -> Any:
    return dict(flag) if isinstance(flag, tuple) else flag


def _split_url(base: str, href: str) -> tuple[str, str]:
    """``href`` resolved against ``base``, and its fragment."""
    absolute = urljoin(base, href)
    url, _, fragment = absolute.partition("#")
    return url, fragment


def _filename_from_url(url: str) -> str:
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


class _Parser(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.meta: list[tuple[str, str]] = []
        self.anchors: list[tuple[dict[str, str | None], list[str]]] = []
        self._open: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "base" and values.get("href"):
            self.base = urljoin(self.base, values["href"] or "")
        elif tag == "meta" and values.get("name") and values.get("content") is not None:
            self.meta.append((values["name"] or "", values["content"] or ""))
        elif tag == "a" and values.get("href"):
            self._open = []
            self.anchors.append((values, self._open))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open.append(data)


def parse_html(text: str, url: str, name: str = "") -> Page:
    """A PEP 503 page (with the data- attributes of PEPs 592, 658, 714 and meta of 629/708)."""
    parser = _Parser(url)
    parser.feed(text)
    parser.close()
    files = []
    for attrs, text_parts in parser.anchors:
        file_url, fragment = _split_url(parser.base, attrs["href"] or "")
        # pip and uv take the filename from the URL, not the link text: so do we.
        filename = _filename_from_url(file_url) or "".join(text_parts).strip()
        yanked: bool | str = False
        if "data-yanked" in attrs:
            yanked = attrs["data-yanked"] or True
        gpg = attrs.get("data-gpg-sig")
        files.append(File(
            filename=filename, url=file_url, hashes=_hashes_from_fragment(fragment),
            requires_python=attrs.get("data-requires-python") or None, yanked=yanked,
            core_metadata=_flag_from_attr(attrs.get("data-core-metadata")),
            dist_info_metadata=_flag_from_attr(attrs.get("data-dist-info-metadata")),
            gpg_sig=None if gpg is None else gpg.strip().lower() == "true",
        ))
    meta: dict[str, list[str]] = {}
    for key, content in parser.meta:
        meta.setdefault(key.lower(), []).append(content)
    version = meta.get("pypi:repository-version", ["1.0"])[0]
    _check_major(version)
    return Page(name=name, files=tuple(files), api_version=version,
                tracks=tuple(meta.get("pypi:tracks", ())),
                alternate_locations=tuple(meta.get("pypi:alternate-locations", ())), url=url)


_FILE_KEYS = {"filename", "url", "hashes", "requires-python", "yanked", "core-metadata",
              "dist-info-metadata", "data-dist-info-metadata", "gpg-sig", "size", "upload-time"}
_PAGE_KEYS = {"meta", "name", "files", "versions", "alternate-locations"}


def _check_major(version: str) -> None:
    if version.split(".")[0] != "1":
        raise PageError(f"unsupported simple-API version {version!r}")


def parse_json(text: str | bytes, url: str) -> Page:
    """A PEP 691 page (with the fields of PEPs 700 and 708)."""
    try:
        data = json.loads(text)
        meta = data.get("meta", {})
        version = str(meta.get("api-version", "1.0"))
        _check_major(version)
        files = []
        for entry in data["files"]:
            file_url, fragment = _split_url(url, entry["url"])
            hashes = tuple((str(k), str(v)) for k, v in (entry.get("hashes") or {}).items())
            core = entry.get("core-metadata")
            # PEP 714: some servers still spell it "data-dist-info-metadata" in JSON.
            dist_info = entry.get("dist-info-metadata", entry.get("data-dist-info-metadata"))
            size = entry.get("size")
            files.append(File(
                filename=str(entry["filename"]), url=file_url,
                hashes=hashes or _hashes_from_fragment(fragment),
                requires_python=entry.get("requires-python") or None,
                yanked=entry.get("yanked", False) or False,
                core_metadata=_flag_from_json(core), dist_info_metadata=_flag_from_json(dist_info),
                gpg_sig=entry.get("gpg-sig"),
                size=int(size) if size is not None else None,
                upload_time=entry.get("upload-time"),
                extra=tuple((k, json.dumps(v)) for k, v in entry.items() if k not in _FILE_KEYS),
            ))
        versions = data.get("versions")
        return Page(
            name=str(data.get("name", "")), files=tuple(files), api_version=version,
            tracks=tuple(str(u) for u in meta.get("tracks", ())),
            alternate_locations=tuple(str(u) for u in data.get("alternate-locations", ())),
            versions=tuple(str(v) for v in versions) if versions is not None else None, url=url,
            extra=tuple((k, json.dumps(v)) for k, v in data.items() if k not in _PAGE_KEYS),
        )
    except PageError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PageError(f"not a PEP 691 project page ({type(exc).__name__}: {exc})") from None


def parse(body: bytes, content_type: str, url: str, name: str = "") -> Page:
    """A page from an HTTP body, by its Content-Type (HTML when the type says nothing useful)."""
    media, _, params = content_type.partition(";")
    media = media.strip().lower()
    if media == JSON_TYPE or media == "application/json":
        page = parse_json(body, url)
    else:
        charset = "utf-8"
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip('"')
        try:
            text = body.decode(charset, errors="replace")
        except LookupError:
            text = body.decode("utf-8", errors="replace")
        page = parse_html(text, url, name)
    return page if page.name else replace(page, name=name)


def parse_project_list(body: bytes, content_type: str, url: str = "") -> list[str]:
    """The project names an index's root page (``/simple/``) lists, as written (not
    normalized): PEP 691 JSON's ``projects``, or the text of PEP 503 HTML's anchors."""
    media = content_type.partition(";")[0].strip().lower()
    if media in (JSON_TYPE, "application/json"):
        try:
            data = json.loads(body)
            _check_major(str(data.get("meta", {}).get("api-version", "1.0")))
            return [str(project["name"]) for project in data["projects"]]
        except PageError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise PageError(f"not a PEP 691 project list ({type(exc).__name__}: {exc})") from None
    parser = _Parser(url)
    parser.feed(body.decode("utf-8", errors="replace"))
    parser.close()
    return ["".join(text).strip() for _attrs, text in parser.anchors]


def offered_versions(page: Page) -> list[str]:
    """Every version a project page offers (PEP 700's list, and those read from its file
    names), oldest first; an unparsable version sorts before the others."""
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )
    from packaging.version import InvalidVersion, Version

    found: set[str] = set(page.versions or ())
    for file in page.files:
        try:
            if file.filename.endswith(".whl"):
                found.add(str(parse_wheel_filename(file.filename)[1]))
            else:
                found.add(str(parse_sdist_filename(file.filename)[1]))
        except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
            continue

    def key(version: str) -> tuple[int, Version | str]:
        try:
            return (1, Version(version))
        except InvalidVersion:
            return (0, version)

    return sorted(found, key=key)


Format = Literal["json", "html"]


def choose_format(accept: str | None) -> tuple[Format, str]:
    """The format and Content-Type to answer with, from a client's Accept header (PEP 691)."""
    best: tuple[float, int, Format, str] | None = None
    for position, item in enumerate((accept or "").split(",")):
        media, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.lower()
        choice: tuple[Format, str] | None = None
        if media in (JSON_TYPE, "application/vnd.pypi.simple.latest+json"):
            choice = ("json", JSON_TYPE)
        elif media in (HTML_TYPE, "application/vnd.pypi.simple.latest+html"):
            choice = ("html", HTML_TYPE)
        elif media in ("text/html", "*/*", "text/*"):
            choice = ("html", "text/html; charset=utf-8")
        if choice and quality > 0 and (best is None or (quality, -position) > best[:2]):
            best = (quality, -position, *choice)
    if best is None:
        return "html", "text/html; charset=utf-8"
    return best[2], best[3]


def _href(file: File) -> str:
    if not file.hashes:
        return file.url
    # An HTML link carries one hash: sha256 when offered (what every installer checks).
    hashes = dict(file.hashes)
    name = "sha256" if "sha256" in hashes else file.hashes[0][0]
    return f"{file.url}#{name}={hashes[name]}"


def render_html(page: Page, name: str) -> str:
    """A PEP 503 page with the data- attributes; every value HTML-escaped."""
    lines = ["<!DOCTYPE html>", "<html>", "  <head>",
             f'    <meta name="pypi:repository-version" content="{escape(page.api_version)}">',
             f"    <title>Links for {escape(name)}</title>", "  </head>", "  <body>",
             f"    <h1>Links for {escape(name)}</h1>"]
    for file in page.files:
        attrs = [("href", _href(file))]
        if file.requires_python:
            attrs.append(("data-requires-python", file.requires_python))
        if file.yanked:
            attrs.append(("data-yanked", "" if file.yanked is True else str(file.yanked)))
        for key, flag in (("data-core-metadata", file.core_metadata),
                          ("data-dist-info-metadata", file.dist_info_metadata)):
            value = _flag_to_attr(flag)
            if value is not None:
                attrs.append((key, value))
        if file.gpg_sig is not None:
            attrs.append(("data-gpg-sig", "true" if file.gpg_sig else "false"))
        rendered = " ".join(f'{key}="{escape(value, quote=True)}"' for key, value in attrs)
        lines.append(f"    <a {rendered}>{escape(file.filename)}</a><br>")
    lines += ["  </body>", "</html>", ""]
    return "\n".join(lines)


def render_json(page: Page, name: str) -> str:
    """A PEP 691 page."""
    files = []
    for file in page.files:
        entry: dict[str, Any] = {"filename": file.filename, "url": file.url,
                                 "hashes": dict(file.hashes)}
        if file.requires_python:
            entry["requires-python"] = file.requires_python
        if file.yanked:
            entry["yanked"] = file.yanked
        if file.core_metadata is not None:
            entry["core-metadata"] = _flag_to_json(file.core_metadata)
        if file.dist_info_metadata is not None:
            entry["dist-info-metadata"] = _flag_to_json(file.dist_info_metadata)
        if file.gpg_sig is not None:
            entry["gpg-sig"] = file.gpg_sig
        if file.size is not None:
            entry["size"] = file.size
        if file.upload_time is not None:
            entry["upload-time"] = file.upload_time
        for key, value in file.extra:
            entry.setdefault(key, json.loads(value))
        files.append(entry)
    data: dict[str, Any] = {"meta": {"api-version": page.api_version}, "name": name,
                            "files": files}
    if page.versions is not None:
        data["versions"] = list(page.versions)
    return json.dumps(data, separators=(",", ":"))


def render(page: Page, name: str, accept: str | None) -> tuple[bytes, str]:
    """The body and Content-Type answering a client whose Accept header is ``accept``."""
    kind, content_type = choose_format(accept)
    text = render_json(page, name) if kind == "json" else render_html(page, name)
    return text.encode("utf-8"), content_type
