"""Turning scan findings into a migration plan: an [[index]] / [[git]] entry per credential,
the file without it (a requirement file's index option, a pip.conf key, a CI variable, ...)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from privpip import credentials
from privpip.config import PROJECT_FILE, GitHost, Index, edit, label, providers
from privpip.config.schema import parse_text
from privpip.core import identity, pipargs
from privpip.core.identity import DEFAULT_USERNAME, same_index
from privpip.core.secret import Secret
from privpip.hygiene.migrate.plan import WHY_PIP_CONF, WHY_REMOVED, FileChange, KeyringEntry, Plan
from privpip.hygiene.scan import LEAK, Finding, file_role, guess_provider, split_lines

# Outside requirement files (a pip line in a Dockerfile or CI file, PIP_INDEX_URL, a config
# key): what precedes the URL of the index that replaces PyPI (it becomes the default index).
_INDEX_OPTION = re.compile(r"(?:^|[\s\"'])(?:-i|--index-url|PIP_INDEX_URL|index-url|index_url)$")
# `NAME=value` in a .env file (optionally `export NAME=`), `ENV NAME=value` / `ARG NAME=value`
# / `ENV NAME value` in a Dockerfile: the variable a literal token is assigned to.
_ASSIGNED = re.compile(r"^\s*(?:export\s+|ENV\s+|ARG\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*[= ]",
                       re.IGNORECASE)
_PIP_INDEX_KEYS = {"index-url": True, "extra-index-url": False}  # key -> replaces PyPI
_PYPIRC_DEFAULTS = {"pypi": "https://upload.pypi.org/legacy/",
                    "testpypi": "https://test.pypi.org/legacy/"}


def _addressed(url: str) -> bool:
    """Whether ``url``'s host is an IP address or localhost: no name worth taking from it."""
    import ipaddress
    from urllib.parse import urlsplit

    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _index_name(url: str, provider: str, taken: set[str]) -> str:
    from urllib.parse import urlsplit

    project = providers.gitlab_project(url)
    base = f"gitlab-{project}" if provider == "gitlab" and project and project.isdigit() \
        else ("index" if _addressed(url) else (urlsplit(url).hostname or "index"))
    base = re.sub(r"[^A-Za-z0-9._-]", "-", base).strip("-._") or "index"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


class _Builder:
    """The state of one plan while findings are turned into edits (config text, file lines)."""

    def __init__(self, root: Path, config_path: Path, user: bool = False,
                 name: str | None = None) -> None:
        self.root = root
        self.plan = Plan(config_path)
        self.pyproject = edit.is_pyproject(config_path)
        self.label = label(config_path)
        self.old_config = edit.read(config_path) if config_path.is_file() else None
        self.config = self.old_config if self.old_config is not None else \
            (edit.user_starter() if user else edit.starter(self.pyproject))
        self.name = name  # --name: the name of the (first) index the plan creates
        self.initial_config = self.config
        parsed = parse_text(self.config, self.label, self.pyproject)
        self.indexes = list(parsed.indexes)
        self.gits = list(parsed.git_hosts)
        self.old_texts: dict[Path, str] = {}
        self.lines: dict[Path, list[str]] = {}
        self.stored: set[tuple[str, str]] = set()
        self.removed_requirement_options = False

    # -- files ---------------------------------------------------------------------------

    def file_lines(self, finding: Finding) -> list[str] | None:
        file = self.root / finding.path
        if file not in self.lines:
            try:
                with open(file, encoding="utf-8", newline="") as handle:
                    self.old_texts[file] = handle.read()
            except (OSError, UnicodeDecodeError):
                return None
            self.lines[file] = split_lines(self.old_texts[file])
        return self.lines[file]

    # -- config --------------------------------------------------------------------------

    def append_table(self, kind: str, fields: dict[str, Any]) -> None:
        """One more [[index]] / [[git]] table, appended as text and loaded back to check it.

        edit.add_index works on a file on disk; a plan edits several tables before anything
        is written, so the same appending runs here on text.
        """
        if kind == "index":
            block = edit.table_text(fields, self.pyproject)
        else:
            import tomli_w

            block = ("[[tool.privpip.git]]" if self.pyproject else "[[git]]") + "\n" + \
                tomli_w.dumps(fields)
        new = edit._appended(self.config, block)
        parse_text(new, self.label, self.pyproject)  # raises ConfigError: nothing is written
        self.config = new

    def index_for(self, url: str, provider: str, username: str | None,
                  replaces_pypi: bool) -> Index:
        found = next((i for i in self.indexes if same_index(i.url, url)), None)
        if found is not None:
            return found
        if self.name is not None:
            name, self.name = self.name, None
        else:
            name = _index_name(url, provider, {i.name for i in self.indexes})
            if _addressed(url):
                self.note(f"index {name!r} ({url}) got a generic name, its host being an "
                          "address: choose one with --name NAME, or change `name` in "
                          f"{self.shown(self.plan.config_path)} before the token is used")
        fields: dict[str, Any] = {"name": name, "url": url}
        if replaces_pypi and not any(i.default for i in self.indexes):
            fields["default"] = True
        if username and username != DEFAULT_USERNAME:
            fields["username"] = username
        self.append_table("index", fields)
        index = parse_text(self.config, self.label, self.pyproject).indexes[-1]
        self.indexes.append(index)
        return index

    def git_for(self, host: str, username: str | None) -> GitHost:
        found = next((g for g in self.gits if g.host == host), None)
        if found is not None:
            return found
        fields: dict[str, Any] = {"host": host}
        if username:
            fields["username"] = username
        self.append_table("git", fields)
        git = parse_text(self.config, self.label, self.pyproject).git_hosts[-1]
        self.gits.append(git)
        return git

    def store(self, what: str, service: str, username: str, token: Secret,
              index: Index | None) -> None:
        if (service, username) not in self.stored:
            self.stored.add((service, username))
            self.plan.entries.append(KeyringEntry(what, service, username, token, index))

    def ci_variable(self, var: str) -> None:
        if var not in self.plan.ci_variables:
            self.plan.ci_variables.append(var)

    def note(self, text: str) -> None:
        if text not in self.plan.notes:
            self.plan.notes.append(text)

    # -- the result ----------------------------------------------------------------------

    def finish(self) -> Plan:
        plan = self.plan
        if self.removed_requirement_options:
            self.note(WHY_REMOVED.format(config=self.shown(plan.config_path)))
        if self.config != self.initial_config:
            plan.changes.append(FileChange(plan.config_path, self.shown(plan.config_path),
                                           self.old_config, self.config))
        for file, lines in self.lines.items():
            new = "".join(lines)
            if new != self.old_texts[file]:
                plan.changes.append(FileChange(file, self.shown(file), self.old_texts[file], new))
        return plan

    def shown(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return label(path)


def build_plan(findings: Sequence[Finding], root: Path, env: Mapping[str, str],
               config_path: Path | None = None, user: bool = False,
               name: str | None = None) -> Plan:
    """What `privpip migrate` would do for ``findings`` (paths relative to ``root``).

    ``config_path``: the config file (default: privpip.toml at ``root``); ``user``: it is
    the user config file (its own starter text when new); ``name``: the name of the first
    index the plan creates (else one made from the URL).
    URLs with a credential come first (they create the indexes), then literal tokens in .env
    files and Dockerfiles, which are matched to those indexes.
    """
    builder = _Builder(root, config_path or root / PROJECT_FILE, user, name)
    leaks = [f for f in findings if f.level == LEAK]
    # Left to right on a line, lines top to bottom: a removed line becomes "" (lines keep their
    # numbers) and a span is applied right to left within one line by the sort below.
    order = sorted(leaks, key=lambda f: (f.path, f.line, -(f.span or (0, 0))[0]))
    later: list[Finding] = []
    for finding in order:
        if finding.secret is None or finding.span is None:
            builder.plan.skipped.append((finding, "privpip cannot tell where the token is"))
        elif finding.kind.startswith("password in ["):
            _ini_password(builder, finding)
        elif finding.url_without_secret is not None and not finding.kind.startswith(
                "password key"):
            _url(builder, finding)
        elif finding.url_without_secret is None and (
                file_role(finding.path) in ("env", "docker")):
            later.append(finding)
        else:
            builder.plan.skipped.append((finding, "privpip does not rewrite this kind"))
    for finding in later:
        _literal(builder, finding)
    return builder.finish()


def _url(b: _Builder, finding: Finding) -> None:
    """A URL with a credential: an [[index]] or [[git]] entry, and the file without it."""
    from urllib.parse import urlsplit

    assert finding.url_without_secret is not None and finding.secret is not None
    assert finding.span is not None
    lines = b.file_lines(finding)
    if lines is None:
        b.plan.skipped.append((finding, "the file cannot be read as UTF-8 text"))
        return
    url = finding.url_without_secret
    is_git = url.lower().startswith("git+")
    plain = url[4:] if is_git else url
    line = lines[finding.line - 1]
    start, end = finding.span
    name = finding.path.rsplit("/", 1)[-1]
    requirements = name.endswith((".txt", ".in")) and not is_git
    requirement_option = _requirement_index_option(
        line, line[start:end], (b.root / finding.path).parent) if requirements else None
    if requirements and requirement_option is None:
        b.plan.skipped.append((finding, "a direct URL, not an index"))
        return
    pip_conf = name in ("pip.conf", "pip.ini") and not is_git
    before = re.sub(r"(?:git\+)?https?://$", "", line[:start], flags=re.IGNORECASE)
    replaces_pypi = bool(_INDEX_OPTION.search(before.rstrip(" \t\"'=:")))
    if requirement_option is not None:
        replaces_pypi = requirement_option[0] == pipargs.INDEX_URL
    if pip_conf:
        key = _pip_conf_key(lines, finding.line - 1)
        replaces_pypi = _PIP_INDEX_KEYS.get(key or "", False)
    if is_git:
        host = urlsplit(plain).netloc.rpartition("@")[2].lower()
        git = b.git_for(host, finding.username)
        var = credentials.git_token_var(git)
        username = finding.username or git.default_username
        service, what, index = identity.git_service(git.host), f"git host {git.host}", None
    else:
        index = b.index_for(plain, finding.provider_guess, finding.username, replaces_pypi)
        var = credentials.token_var(index)
        username = finding.username or index.username
        service, what = identity.keyring_service(index.url), f"index {index.name}"
    ci = file_role(finding.path) == "ci"
    docker = file_role(finding.path) == "docker"
    if ci or docker:
        # No keyring there: the file names the variable privpip (and the shell) reads.
        if ci and name.startswith(".gitlab-ci") and finding.provider_guess == "gitlab":
            replacement = "gitlab-ci-token:${CI_JOB_TOKEN}"
            b.note(f"{finding.path}:{finding.line}: uses GitLab's job token (CI_JOB_TOKEN); "
                   "allow this project in the package project's CI/CD job token settings")
        else:
            replacement = (finding.username + ":" if finding.username else "") + f"${{{var}}}"
            b.ci_variable(var)
        lines[finding.line - 1] = line[:start] + replacement + line[end:]
        if docker and not ci:
            _docker_arg(b, finding, lines, var)
    elif requirement_option is not None:
        lines[finding.line - 1] = requirement_option[1]
        b.removed_requirement_options = True
        b.store(what, service, username, finding.secret, index)
    elif pip_conf and _remove_pip_conf_value(lines, finding.line - 1, start, end):
        b.note(WHY_PIP_CONF.format(where=f"{finding.path}:{finding.line}",
                                   config=b.shown(b.plan.config_path)))
        b.store(what, service, username, finding.secret, index)
    else:
        # Elsewhere (setup.cfg, pyproject.toml, tox.ini...) the URL stays, without its
        # credential: privpip's delivery supplies it for the host.
        lines[finding.line - 1] = line[:start] + line[end + 1:]  # also the "@"
        b.store(what, service, username, finding.secret, index)
    b.plan.moved.append(finding)


def _requirement_index_option(line: str, secret: str, base: Path) -> tuple[str, str] | None:
    """pip's reading of one requirement-file line (privpip.core.pipargs, the one walker of pip's
    arguments): the index option whose value holds ``secret`` (its long name) and the line
    without that option ("" when nothing else is left); None for a line that has none."""
    import shlex

    logical = pipargs.numbered_lines(line)  # comments dropped as pip drops them
    if not logical or not logical[0][1].startswith("-"):
        return None  # a requirement line: pip allows no index option there
    try:
        words = shlex.split(logical[0][1])
    except ValueError:
        return None
    option = next((o for o in pipargs.walk(words, base, follow_files=False).options
                   if o.option in (pipargs.INDEX_URL, pipargs.EXTRA_INDEX_URL)
                   and o.value and secret in o.value), None)
    if option is None:
        return None
    rest = pipargs.without(words, [option])
    return option.option, (shlex.join(rest) + line[len(line.rstrip("\r\n")):] if rest else "")


def _pip_conf_key(lines: list[str], n: int) -> str | None:
    """The normalized key whose value (or continuation line) line ``n`` holds."""
    for i in range(n, -1, -1):
        text = lines[i]
        if not text or text[:1].isspace():  # a continuation, or a line already removed
            continue
        if text.lstrip().startswith(("#", ";", "[")):
            return None
        return text.split("=", 1)[0].split(":", 1)[0].strip().lower().replace("_", "-")
    return None


def _remove_pip_conf_value(lines: list[str], n: int, start: int, end: int) -> bool:
    """Drop the URL around [start, end) from an index-url / extra-index-url value; the key goes
    too when no value is left. False when line ``n`` is not such a value."""
    key_line = next((i for i in range(n, -1, -1) if lines[i] and not lines[i][:1].isspace()),
                    None)
    if key_line is None or _pip_conf_key(lines, n) not in _PIP_INDEX_KEYS:
        return False
    line = lines[n]
    left = line.rfind("://", 0, start)  # back over the scheme to where the URL starts
    while left > 0 and (line[left - 1].isalnum() or line[left - 1] in "+.-"):
        left -= 1
    right = end
    while right < len(line) and not line[right].isspace():
        right += 1
    lines[n] = line[:left] + line[right:]
    if n != key_line and not lines[n].strip():
        lines[n] = ""
    block = [key_line]
    i = key_line + 1
    # Its continuation lines (indented), and those an earlier removal emptied ("").
    while i < len(lines) and (lines[i] == "" or (lines[i][:1] in " \t" and lines[i].strip())):
        block.append(i)
        i += 1
    first = lines[key_line]
    value = re.split(r"[=:]", first, maxsplit=1)[1] if re.search(r"[=:]", first) else ""
    if not value.strip() and not any(lines[j].strip() for j in block[1:]):
        for j in block:
            lines[j] = ""
    return True


def _docker_arg(b: _Builder, finding: Finding, lines: list[str], var: str) -> None:
    """``ARG VAR`` before the first line that uses it, so `docker build --build-arg VAR` works."""
    declared = re.compile(rf"^\s*ARG\s+{re.escape(var)}(\s|=|$)", re.IGNORECASE)
    if any(declared.match(line) for line in lines):
        return
    at = finding.line - 1
    newline = "\r\n" if lines[at].endswith("\r\n") else "\n"
    lines[at] = f"ARG {var}{newline}" + lines[at]
    b.note(f"{finding.path}: build with `docker build --build-arg {var}` (the variable set in "
           "the environment or CI); a build argument stays in the image's history, so prefer "
           f"a secret mount: `RUN --mount=type=secret,id={var.lower()},env={var} ...` and "
           f"`docker build --secret id={var.lower()},env={var}`")


def _ini_password(b: _Builder, finding: Finding) -> None:
    """``password =`` in .pypirc or pip.conf: into the keyring, the key deleted."""
    assert finding.secret is not None
    name = finding.path.rsplit("/", 1)[-1]
    section = finding.kind.partition("[")[2].partition("]")[0]
    if name not in (".pypirc", "pip.conf", "pip.ini"):
        b.plan.skipped.append((finding, f"privpip does not rewrite {name}"))
        return
    lines = b.file_lines(finding)
    if lines is None:
        b.plan.skipped.append((finding, "the file cannot be read as UTF-8 text"))
        return
    url = finding.url_without_secret
    index: Index | None = None
    if name == ".pypirc":
        url = url or _PYPIRC_DEFAULTS.get(section)
        if url is None:
            b.plan.skipped.append((finding, f"[{section}] names no repository URL"))
            return
        index = next((i for i in b.indexes if same_index(i.upload_url or "", url)
                      or same_index(i.url, url)), None)
        if index is None:
            # twine's own keyring lookup: service = the repository URL, the section's user.
            username = finding.username or DEFAULT_USERNAME
            b.store(f".pypirc [{section}]", url, username, finding.secret, None)
            b.note(f"{finding.path}: twine reads the token for [{section}] from the keyring "
                   f"(service {url}); add the index to privpip with `privpip index add` to "
                   "upload with `privpip upload`")
        else:
            username = finding.username or index.username
            # An upload URL answers no GET: the token is stored without a check.
            b.store(f"index {index.name}", identity.keyring_service(index.url), username,
                    finding.secret, None)
    else:
        if url is None or "@" in url:
            b.plan.skipped.append((finding, f"[{section}] has no credential-free index-url"))
            return
        index = b.index_for(url, finding.provider_guess, finding.username, True)
        b.store(f"index {index.name}", identity.keyring_service(index.url),
                finding.username or index.username, finding.secret, index)
    lines[finding.line - 1] = ""
    b.plan.moved.append(finding)


def _literal(b: _Builder, finding: Finding) -> None:
    """A literal token in a .env file or a Dockerfile: ``${PRIVPIP_INDEX_<NAME>_TOKEN}``."""
    assert finding.secret is not None and finding.span is not None
    lines = b.file_lines(finding)
    if lines is None:
        b.plan.skipped.append((finding, "the file cannot be read as UTF-8 text"))
        return
    line = lines[finding.line - 1]
    assigned = _ASSIGNED.match(line)
    variable = assigned.group("name") if assigned else ""
    target = _target(b, variable, finding)
    if isinstance(target, str):
        b.plan.skipped.append((finding, target))
        return
    if isinstance(target, Index):
        var, index = credentials.token_var(target), target
        what, service = f"index {target.name}", identity.keyring_service(target.url)
        username = credentials.username(target, {})
    else:
        var, index = credentials.git_token_var(target), None
        what, service = f"git host {target.host}", identity.git_service(target.host)
        username = target.default_username
    start, end = finding.span
    if file_role(finding.path) == "docker":
        lines[finding.line - 1] = line[:start] + f"${{{var}}}" + line[end:]
        b.ci_variable(var)
        _docker_arg(b, finding, lines, var)
    else:
        b.store(what, service, username, finding.secret, index)
        if variable == var:
            lines[finding.line - 1] = ""  # privpip reads that variable's token from the keyring
        else:
            lines[finding.line - 1] = line[:start] + f"${{{var}}}" + line[end:]
            b.note(f"{finding.path}:{finding.line}: {variable or 'the value'} now refers to "
                   f"{var}; privpip reads the token from the keyring, a tool that reads "
                   f"{variable or 'it'} needs {var} set")
    b.plan.moved.append(finding)


def _target(b: _Builder, variable: str, finding: Finding) -> Index | GitHost | str:
    """The index or git host a literal token belongs to, or why that cannot be told."""
    for index in b.indexes:
        if variable == credentials.token_var(index):
            return index
    for git in b.gits:
        if variable == credentials.git_token_var(git):
            return git
    known = finding.provider_guess if finding.provider_guess in (
        "gitlab", "github", "pypi", "artifactory", "aws") else None
    candidates: list[Index | GitHost] = [
        i for i in b.indexes if i.auth and (known is None or guess_provider(i.url) == known
                                            or i.provider == known)]
    candidates += [g for g in b.gits
                   if known is None or guess_provider(f"https://{g.host}/") == known]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        return "no configured index or git host this token belongs to"
    return "several configured indexes could own this token"
