"""What counts as a written credential, and finding them in one file's text (lines, URLs,
credential variables; the INI, TOML and netrc password keys)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator

from privpip.core import tokens
from privpip.core.secret import Secret
from privpip.hygiene.scan.finding import LEAK, MASK, REFERENCE, Finding
from privpip.hygiene.scan.kinds import file_kind

# ---------------------------------------------------------------------------
# what counts


_URL_START = re.compile(r"(?<![A-Za-z0-9+.-])(?:git\+)?https?://", re.IGNORECASE)
_NETLOC = re.compile(r"[^\s/?#'\"`\\]*")
_REFERENCE = re.compile(
    r"^(?:\$\{[A-Za-z_][A-Za-z0-9_]*(?:[:?+-][^}]*)?\}|\$[A-Za-z_][A-Za-z0-9_]*|"
    r"\$\([A-Za-z_][A-Za-z0-9_.]*\)|%\([A-Za-z_][A-Za-z0-9_]*\)s|%[A-Za-z_][A-Za-z0-9_]*%|"
    r"\{\{.*\}\}|\$\{\{.*\}\})$"
)
_PLACEHOLDER_WORDS = {"token", "password", "passwd", "secret", "pass", "pat", "apikey",
                      "api_key", "api-key", "changeme", "xxx", "user", "username", "mytoken"}
# Literal values assigned to the variables that carry an index credential.
_CREDENTIAL_VARIABLE = re.compile(
    r"(?<![A-Za-z0-9_])(?P<name>PRIVPIP_(?:INDEX|GIT)_[A-Z0-9_]+_TOKEN|TWINE_PASSWORD|"
    r"UV_INDEX_[A-Z0-9_]+_PASSWORD|POETRY_HTTP_BASIC_[A-Z0-9_]+_PASSWORD|PDM_[A-Z0-9_]*PASSWORD)"
    r"[\"']?\s*[=:]\s*(?P<quote>[\"']?)(?P<value>[^\s\"'#]+)"
)
_PROVIDER_OF_PREFIX = {"gl": "gitlab", "gh": "github", "github_pat_": "github", "pypi-": "pypi",
                       "AKCp": "artifactory", "AKIA": "aws"}


def is_reference(value: str) -> bool:
    """``${VAR}``, ``$VAR``, ``$(VAR)``, ``%(VAR)s``, ``%VAR%``, ``${{ secrets.X }}``."""
    return bool(_REFERENCE.match(value.strip()))


def is_placeholder(value: str) -> bool:
    """Documentation examples: ``<your_token>``, ``TOKEN``, ``xxxx``, ``****``, ``...``."""
    v = value.strip().strip("'\"")
    low = v.lower()
    if not v or (v.startswith("<") and v.endswith(">")) or (v.startswith("[") and v.endswith("]")):
        return True
    if len(set(v)) <= 1 or set(v) <= set("x*.-_X"):
        return True
    if low.replace("-", "_") in _PLACEHOLDER_WORDS or low.startswith(("your", "my_", "<")):
        return True
    return bool(re.fullmatch(r"(your|my)?[_-]?(access[_-]?|api[_-]?|personal[_-]?)?"
                             r"(token|password|secret|pat|key)[_-]?(here)?", low))


def _looks_like_bare_token(user: str) -> bool:
    """A userinfo without ':' that is a token, not a user name (``https://TOKEN@github.com``)."""
    if tokens.PATTERN.fullmatch(user):
        return True
    return (len(user) >= 32 and re.fullmatch(r"[A-Za-z0-9_\-]+", user) is not None
            and re.search(r"\d", user) is not None and re.search(r"[A-Za-z]", user) is not None)


def guess_provider(url: str | None, secret: str | None = None) -> str:
    """gitlab, github, pypi, artifactory, aws, codeartifact, google, azure, else the host."""
    if secret:
        match = tokens.PATTERN.match(secret)
        if match:
            for start, provider in _PROVIDER_OF_PREFIX.items():
                if tokens.prefix(match).startswith(start):
                    return provider
    if not url:
        return "unknown"
    from urllib.parse import urlsplit

    from privpip.config import providers

    plain = url[4:] if url.lower().startswith("git+") else url
    try:
        return providers.guess(plain) or (urlsplit(plain).hostname or "").lower() or "unknown"
    except ValueError:
        return "unknown"



def _mask_shape(secret: str) -> str:
    """At most the 4-character public prefix of a known token shape; otherwise nothing."""
    return secret[:4] + "…" if tokens.PATTERN.match(secret) else MASK


# ---------------------------------------------------------------------------
# scanning text


def split_lines(text: str) -> list[str]:
    """Lines with their endings, split on "\\n" only (str.splitlines also splits on \\f, \\x1c...,
    which would shift line numbers against what an editor shows)."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def scan_text(text: str, path: str, kind: str | None = None) -> list[Finding]:
    """Every finding in ``text`` (the contents of ``path``), sorted; ``kind`` from file_kind."""
    kind = kind or file_kind(path) or "text"
    lines = split_lines(text)
    found: list[Finding] = []
    # The parser's findings first: on the same span they win over the line rules (dedupe).
    if kind == "ini":
        found += _ini_passwords(text, lines, path)
    elif kind == "toml":
        found += _toml_passwords(text, lines, path)
    elif kind == "netrc":
        found += _netrc_passwords(text, lines, path)
    for number, line in enumerate(lines, 1):
        found += scan_line(line, path, number)
    return sorted(dedupe(found), key=Finding.sort_key)


def dedupe(found: Iterable[Finding]) -> list[Finding]:
    seen: set[tuple[str, int, tuple[int, int] | None]] = set()
    out = []
    for f in sorted(found, key=lambda f: f.level != LEAK):  # a leak wins over a reference
        key = (f.path, f.line, f.span)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def scan_line(line: str, path: str, number: int) -> Iterator[Finding]:
    covered: list[tuple[int, int]] = []
    for match in _URL_START.finditer(line):
        netloc_start = match.end()
        netloc = _NETLOC.match(line, netloc_start)
        assert netloc is not None  # the pattern matches the empty string
        userinfo, at, host = netloc.group(0).rpartition("@")
        if not at or not userinfo:
            continue
        start, end = netloc_start, netloc_start + len(userinfo)
        url_end = netloc.end()
        while url_end < len(line) and not line[url_end].isspace() and line[url_end] not in "'\"`<>":
            url_end += 1
        url = line[match.start():url_end]
        finding = _userinfo_finding(path, number, url, line[match.start():start], userinfo,
                                    line[start + len(userinfo):url_end], (start, end))
        if finding is not None:
            covered.append((start, end))
            yield finding
    for match in tokens.PATTERN.finditer(line):
        if any(s <= match.start() < e for s, e in covered):
            continue
        value = match.group(0)
        if is_placeholder(value[len(tokens.prefix(match)):]):
            continue
        covered.append(match.span())
        yield Finding(path, number, tokens.KINDS[tokens.prefix(match)], _mask_shape(value),
                      guess_provider(None, value), None, LEAK, None, Secret(value), match.span())
    for match in _CREDENTIAL_VARIABLE.finditer(line):
        value = match.group("value")
        if any(s <= match.start("value") < e for s, e in covered) or is_placeholder(value):
            continue
        name = match.group("name")
        span = match.span("value")
        if is_reference(value) or value.startswith("$"):
            yield Finding(path, number, f"{name} set from a variable", f"{name}={value}",
                          "unknown", None, REFERENCE, None, None, span)
        else:
            yield Finding(path, number, f"{name} set to a literal token",
                          f"{name}={_mask_shape(value)}", guess_provider(None, value), None,
                          LEAK, None, Secret(value), span)


def _userinfo_finding(path: str, number: int, url: str, scheme: str, userinfo: str,
                      after: str, span: tuple[int, int]) -> Finding | None:
    from urllib.parse import unquote

    user, colon, password = userinfo.partition(":")
    masked_url = scheme + (f"{user}:{MASK}" if colon else MASK) + after
    plain_url = scheme + after[1:]  # after starts with "@"
    if colon:
        if not password or is_placeholder(unquote(password)) or is_placeholder(password):
            return None
        if is_reference(password):
            return Finding(path, number, f"password from a variable {password} in URL",
                           scheme + userinfo + after, guess_provider(url), plain_url,
                           REFERENCE, unquote(user), None, span)
        secret = unquote(password)
        masked_url = scheme + f"{user}:{_mask_shape(secret)}" + after
        return Finding(path, number, _what("password in URL", secret), masked_url,
                       guess_provider(url, secret), plain_url, LEAK, unquote(user),
                       Secret(secret), span)
    if is_reference(user):
        return Finding(path, number, f"token from a variable {user} in URL",
                       scheme + userinfo + after, guess_provider(url), plain_url, REFERENCE,
                       None, None, span)
    secret = unquote(user)
    if not _looks_like_bare_token(secret) or is_placeholder(secret):
        return None  # a user name without a password: nothing secret here
    masked_url = scheme + _mask_shape(secret) + after
    return Finding(path, number, _what("token as the URL's user name", secret), masked_url,
                   guess_provider(url, secret), plain_url, LEAK, None, Secret(secret), span)


def _what(base: str, secret: str) -> str:
    kind = tokens.kind(secret)
    return f"{base}: {kind}" if kind else base


# ---------------------------------------------------------------------------
# file kinds with a parser


_SECTION = re.compile(r"^\s*\[(?P<name>[^\]]+)\]")
_INI_PASSWORD = re.compile(r"^(?P<key>\s*password\s*[=:]\s*)(?P<value>.*?)\s*$", re.IGNORECASE)


def _ini_passwords(text: str, lines: list[str], path: str) -> Iterator[Finding]:
    """``password =`` in .pypirc / pip.conf / setup.cfg / tox.ini, read with configparser.

    configparser gives the values (continuations, comments, duplicate handling as the tools
    see them); it keeps no line numbers, so the line is found by walking sections and keys.
    """
    import configparser

    parser = configparser.RawConfigParser(strict=False)
    try:
        parser.read_string(text, source=path)
    except configparser.Error:
        return
    section = None
    for number, line in enumerate(lines, 1):
        header = _SECTION.match(line)
        if header:
            section = header.group("name").strip()
            continue
        match = _INI_PASSWORD.match(line.rstrip("\r\n"))
        if not match or section is None or not parser.has_option(section, "password"):
            continue
        value = match.group("value")
        if not value or is_placeholder(value):
            continue
        span = match.span("value")
        if is_reference(value):
            yield Finding(path, number, f"password from a variable in [{section}]",
                          f"password = {value}", "unknown", None, REFERENCE, None, None, span)
            continue
        url = _section_url(parser, section)
        yield Finding(path, number, _what(f"password in [{section}]", value),
                      f"password = {_mask_shape(value)}", guess_provider(url, value), url,
                      LEAK, _section_user(parser, section), Secret(value), span)


def _section_url(parser: object, section: str) -> str | None:
    import configparser

    assert isinstance(parser, configparser.RawConfigParser)
    for key in ("repository", "index-url", "index_url"):
        if parser.has_option(section, key):
            return parser.get(section, key).strip() or None
    return None


def _section_user(parser: object, section: str) -> str | None:
    import configparser

    assert isinstance(parser, configparser.RawConfigParser)
    return parser.get(section, "username") if parser.has_option(section, "username") else None


_TOML_PASSWORD = re.compile(r"(?<![A-Za-z0-9_-])[\"']?password[\"']?\s*=\s*", re.IGNORECASE)


def _toml_passwords(text: str, lines: list[str], path: str) -> Iterator[Finding]:
    """``password = "..."`` keys (PDM sources, Poetry's auth.toml), read with tomllib."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return
    values: list[tuple[str, str | None]] = []  # (password, url of its table) in document order

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("password"), str):
                url = node.get("url")
                values.append((node["password"], url if isinstance(url, str) else None))
            for item in node.values():
                walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(data)
    keys = [(n, m) for n, line in enumerate(lines, 1) for m in _TOML_PASSWORD.finditer(line)]
    for (value, url), (number, match) in zip(values, keys, strict=False):
        if not value or is_placeholder(value):
            continue
        span = (match.end(), match.end() + len(lines[number - 1][match.end():].rstrip()))
        if is_reference(value):
            yield Finding(path, number, "password from a variable", f"password = {value}",
                          "unknown", url, REFERENCE, None, None, span)
            continue
        yield Finding(path, number, _what("password key", value),
                      f"password = {_mask_shape(value)}", guess_provider(url, value), url, LEAK,
                      None, Secret(value), span)


_NETRC_PASSWORD = re.compile(r"(?<!\S)(?:password|passwd)\s+(?P<value>\"(?:\\.|[^\"])*\"|\S+)")


def _netrc_passwords(text: str, lines: list[str], path: str) -> Iterator[Finding]:
    """Every ``password`` of a netrc, read with the netrc module (the rules pip's requests uses)."""
    import netrc
    import tempfile

    # netrc.netrc reads only from a path; a private temporary copy keeps the text the one input.
    fd, tmp = tempfile.mkstemp(prefix="privpip-scan-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as handle:
            handle.write(text)
        try:
            parsed = netrc.netrc(tmp)
        except (netrc.NetrcParseError, OSError, UnicodeDecodeError):
            return
    finally:
        os.unlink(tmp)
    passwords = {entry[2] for entry in parsed.hosts.values() if entry[2]}
    for number, line in enumerate(lines, 1):
        if line.lstrip().startswith("#"):
            continue
        for match in _NETRC_PASSWORD.finditer(line):
            raw = match.group("value")
            value = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\") if raw.startswith('"') \
                else raw
            if value not in passwords or is_placeholder(value):
                continue
            yield Finding(path, number, _what("password in a netrc", value),
                          f"password {_mask_shape(value)}", guess_provider(None, value), None,
                          LEAK, None, Secret(value), match.span("value"))
