"""Finding index and git-host credentials written into a project's files (no click here)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from privpip import tokens
from privpip.secret import Secret

LEAK = "leak"
REFERENCE = "reference"  # a variable reference: not a leak, something privpip can take over

MASK = "****"


@dataclass(frozen=True)
class Finding:
    """One credential (or, at ``level == REFERENCE``, one variable reference) in a file.

    ``redacted`` and ``url_without_secret`` never hold the secret; ``secret`` (a Secret:
    redacted by str/repr) and ``span`` (its columns in the line) are for `privpip migrate`.
    """

    path: str
    line: int  # 1-based; 0 for a value read from the environment
    kind: str
    redacted: str
    provider_guess: str
    url_without_secret: str | None = None
    level: str = LEAK
    username: str | None = None
    secret: Secret | None = field(default=None, compare=False, repr=False)
    span: tuple[int, int] | None = field(default=None, compare=False, repr=False)

    def describe(self) -> str:
        """``path:line: what (redacted, provider)``: the linter-style line `privpip scan` prints."""
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.kind} ({self.redacted}, {self.provider_guess})"

    def as_json(self) -> dict[str, object]:
        return {"path": self.path, "line": self.line, "kind": self.kind, "level": self.level,
                "redacted": self.redacted, "provider": self.provider_guess,
                "url": self.url_without_secret, "username": self.username}

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.span[0] if self.span else 0, self.kind)


# ---------------------------------------------------------------------------
# which files


_DOCKER = re.compile(r"^(?:Dockerfile|Containerfile)(?:\..+)?$|.+\.(?:dockerfile|containerfile)$",
                     re.IGNORECASE)
_INI = {"setup.cfg", "tox.ini", "pip.conf", "pip.ini", ".pypirc"}
_TOML = {"pyproject.toml", "Pipfile", "uv.toml", "poetry.toml", "config.toml", "auth.toml"}
# The files a pre-commit hook hands over; kept in step with .pre-commit-hooks.yaml.
FILES_REGEX = (
    r"(\.(txt|in)|(^|/)(pip\.conf|pip\.ini|\.pypirc|setup\.cfg|setup\.py|pyproject\.toml|"
    r"Pipfile|uv\.toml|tox\.ini|\.gitlab-ci[^/]*\.ya?ml|\.netrc|_netrc)|(^|/)\.env(\..*)?|"
    r"(^|/)(Dockerfile|Containerfile)(\..*)?|\.(dockerfile|containerfile)|"
    r"(^|/)\.github/workflows/[^/]+\.ya?ml|(^|/)\.gitlab/ci/[^/]+\.ya?ml)$"
)


def file_role(path: str | Path) -> str | None:
    """"ci" (GitLab CI, GitHub workflows), "docker" (Dockerfile, Containerfile) or "env" (a
    .env file) from a path; None otherwise. The one recognition of these files: the scan
    reads them as text, migrate writes variable references into them."""
    p = Path(path)
    name = p.name
    if _DOCKER.match(name):
        return "docker"
    if name == ".env" or name.startswith(".env."):
        return "env"
    if name.endswith((".yml", ".yaml")) and (
            name.startswith(".gitlab-ci")
            or p.parts[-3:-1] in ((".github", "workflows"), (".gitlab", "ci"))):
        return "ci"
    return None


def file_kind(path: str | Path) -> str | None:
    """The kind of file for the scan, from its path; None for a file the scan skips."""
    name = Path(path).name
    if name in (".netrc", "_netrc"):
        return "netrc"
    if name in _INI:
        return "ini"
    if name in ("pyproject.toml", "Pipfile", "uv.toml"):
        return "toml"
    if name == "setup.py":
        return "text"
    if name.endswith((".txt", ".in")):
        return "requirements"
    return "text" if file_role(path) is not None else None


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

    from privpip import providers

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
        found += _scan_line(line, path, number)
    return sorted(_dedupe(found), key=Finding.sort_key)


def _dedupe(found: Iterable[Finding]) -> list[Finding]:
    seen: set[tuple[str, int, tuple[int, int] | None]] = set()
    out = []
    for f in sorted(found, key=lambda f: f.level != LEAK):  # a leak wins over a reference
        key = (f.path, f.line, f.span)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _scan_line(line: str, path: str, number: int) -> Iterator[Finding]:
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


# ---------------------------------------------------------------------------
# files and trees


def read_text(path: Path) -> str | None:
    """A file's text, undecodable bytes kept (surrogateescape); None when it cannot be read."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape", newline="") as handle:
            return handle.read()
    except (OSError, ValueError):
        return None


_REQUIREMENT_INCLUDE = re.compile(
    r"^\s*(?:-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+)(?P<file>\S+)")


def scan_files(paths: Iterable[Path], root: Path | None = None,
               follow_includes: bool = True) -> list[Finding]:
    """Scan exactly these files (and the -r/-c files a requirements file names), sorted.

    Paths are shown relative to ``root`` (default: the current directory) when inside it.
    """
    root = root or Path.cwd()
    queue = list(paths)
    seen: set[Path] = set()
    found: list[Finding] = []
    while queue:
        path = queue.pop(0)
        try:
            key = path.resolve()
        except OSError:
            key = path
        if key in seen:
            continue
        seen.add(key)
        text = read_text(path)
        if text is None:
            continue
        kind = file_kind(path) or "text"
        found += scan_text(text, _shown(path, root), kind)
        if follow_includes and kind == "requirements":
            for line in split_lines(text):
                match = _REQUIREMENT_INCLUDE.match(line)
                if match and "://" not in match.group("file"):
                    included = path.parent / match.group("file")
                    if included.is_file():
                        queue.append(included)
    return sorted(found, key=Finding.sort_key)


def _shown(path: Path, root: Path) -> str:
    try:
        return Path(os.path.relpath(path, root)).as_posix() if path.is_absolute() else \
            path.as_posix()
    except ValueError:  # another drive on Windows
        return str(path)


def git_root(directory: Path, env: Mapping[str, str]) -> Path | None:
    """The top of the git work tree containing ``directory``, or None (not in one, no git)."""
    import subprocess

    try:
        out = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=directory, env=dict(env),
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return Path(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else None


_SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".tox", ".nox",
              ".mypy_cache", ".pytest_cache", ".ruff_cache", ".eggs"}


def project_files(directory: Path, env: Mapping[str, str]) -> list[Path]:
    """The files of the kinds the scan reads under ``directory``: what git tracks or would
    (git-ignored files skipped) inside a work tree, else a walk without virtualenvs."""
    import subprocess

    if git_root(directory, env) is not None:
        try:
            out = subprocess.run(
                ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."],
                cwd=directory, env=dict(env), capture_output=True, timeout=120, check=True)
        except (OSError, subprocess.SubprocessError):
            pass
        else:
            tracked = {os.fsdecode(n) for n in out.stdout.split(b"\0") if n}
            return [directory / n for n in sorted(tracked)
                    if file_kind(n) and (directory / n).is_file()]
    files = []
    for base, dirs, names in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS
                         and not (Path(base) / d / "pyvenv.cfg").exists())
        files += [Path(base) / n for n in sorted(names)
                  if file_kind(Path(base, n).relative_to(directory))]
    return files


def scan_project(paths: Iterable[Path], cwd: Path, env: Mapping[str, str]) -> list[Finding]:
    """`privpip scan [PATH...]`: no path = the git work tree around ``cwd`` (else ``cwd``);
    a directory = its files of the kinds above; a file = that file, whatever its name."""
    given = list(paths)
    if not given:
        # Without paths, names are shown from the top of the tree, as `git status` does not but
        # a CI log and `privpip migrate` want: the same names from whichever subdirectory.
        cwd = git_root(cwd, env) or cwd
        given = [cwd]
    files: list[Path] = []
    explicit: list[Path] = []
    for path in given:
        path = path if path.is_absolute() else cwd / path
        if path.is_dir():
            files += project_files(path, env)
        else:
            explicit.append(path)
    # Includes are followed only from files named on the command line: a tree walk sees every
    # requirements file anyway.
    found = scan_files(files, cwd, follow_includes=False) + scan_files(explicit, cwd)
    return sorted(_dedupe(found), key=Finding.sort_key)


# ---------------------------------------------------------------------------
# --user


def user_files(env: Mapping[str, str]) -> list[Path]:
    """The user's and the machine's files that exist: every pip config file pip reads
    (privpip.pipconfig: global, user, the active environment's site file, PIP_CONFIG_FILE),
    ~/.pypirc, uv's and Poetry's config files."""
    import sys

    from privpip import pipconfig

    home = Path(env.get("HOME") or Path.home())
    xdg_home = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    prefix = env.get("VIRTUAL_ENV") or env.get("CONDA_PREFIX") or None
    # pip skips the user files while PIP_CONFIG_FILE names a file; a token in them still
    # sits on this disk, so they are scanned too.
    without = {k: v for k, v in env.items() if k != "PIP_CONFIG_FILE"}
    candidates = [path for _, path in pipconfig.config_files(without, prefix)]
    candidates += [path for _, path in pipconfig.config_files(env, prefix)]
    if sys.platform == "win32":
        appdata = Path(env.get("APPDATA") or home / "AppData" / "Roaming")
        candidates += [appdata / "uv" / "uv.toml", appdata / "pypoetry" / "config.toml",
                       appdata / "pypoetry" / "auth.toml"]
    else:
        xdg_dirs = [Path(d) for d in (env.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(os.pathsep)
                    if d]
        candidates += [d / "uv" / "uv.toml" for d in xdg_dirs]
        candidates += [Path("/etc/uv/uv.toml"), xdg_home / "uv" / "uv.toml"]
        poetry = Path(env["POETRY_CONFIG_DIR"]) if env.get("POETRY_CONFIG_DIR") else \
            xdg_home / "pypoetry"
        candidates += [poetry / "config.toml", poetry / "auth.toml"]
        if sys.platform == "darwin":
            support = home / "Library" / "Application Support"
            candidates += [support / "pypoetry" / "config.toml", support / "pypoetry" / "auth.toml"]
    candidates.append(home / ".pypirc")
    out: list[Path] = []
    for path in candidates:
        if str(path) != os.devnull and path.is_file() and path not in out:
            out.append(path)
    return out


USER_ENV = ("UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_INDEX", "UV_DEFAULT_INDEX",
            "TWINE_REPOSITORY_URL")


def scan_user(env: Mapping[str, str]) -> list[Finding]:
    """`privpip scan --user`: the user's and the machine's files and the pip/uv variables."""
    found: list[Finding] = []
    for path in user_files(env):
        text = read_text(path)
        if text is None:
            continue
        kind = file_kind(path) or ("toml" if path.suffix == ".toml" else "ini")
        if path.name in ("config.toml", "auth.toml"):
            kind = "toml"
        found += scan_text(text, str(path), kind)
    from privpip import pipconfig

    # pip's own variables as pip reads them (privpip.pipconfig), then uv's and twine's.
    pip_vars = [s.where for s in pipconfig.settings(env, None) if s.kind == "env"]
    for var in [*pip_vars, *(v for v in USER_ENV if v not in pip_vars)]:
        if env.get(var):
            found += _scan_line(env[var], f"${var}", 0)
    return sorted(_dedupe(found), key=Finding.sort_key)
