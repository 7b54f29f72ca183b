"""The one reader of pip command lines and requirement files: what a pip run asks for.

Used for the dependency confusion check (requested names, index options), for finding pip's
subcommand, and for telling whether git will be needed (a git+ URL anywhere). It follows
-r and -c files, nested ones included, as pip does, and reads pip's option forms
(``-r FILE``, ``-rFILE``, ``-r=FILE``, ``--requirement FILE``, ``--requirement=FILE``).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

# pip options that take a value (the value is never a requirement or a subcommand).
VALUE_OPTIONS = frozenset({
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-t", "--target",
    "--platform", "--python-version", "--implementation", "--abi", "--root", "--prefix",
    "--src", "--upgrade-strategy", "-C", "--config-settings", "--global-option",
    "--no-binary", "--only-binary", "--progress-bar", "--root-user-action", "--report",
    "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--log", "--log-file",
    "--proxy", "--retries", "--timeout", "--exists-action", "--trusted-host", "--cert",
    "--client-cert", "--cache-dir", "--python", "--keyring-provider", "--use-feature",
    "--use-deprecated", "--group", "--hash", "--build-option", "--install-option",
    "--default-index", "--index",
})
_SHORT_WITH_VALUE = ("-r", "-c", "-e", "-t", "-i", "-f", "-C")
_ARCHIVE = (".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar")
_GIT_URL = re.compile(r"(?<![A-Za-z0-9])git\+(https?|ssh|file|git)://", re.IGNORECASE)


class PipArgs:
    """What a pip command line (and the files it names) asks for, as far as privpip can see.

    Plain classes here, not dataclasses: install's start-up need not import dataclasses
    (with inspect, ast, dis and tokenize: about 8 ms)."""

    def __init__(self, names: dict[str, str] | None = None, index_url: str | None = None,
                 extra_index_urls: list[str] | None = None, no_index: bool = False,
                 mentions_git: bool = False) -> None:
        self.names = {} if names is None else names  # canonical name -> where it was seen
        self.index_url = index_url
        self.extra_index_urls = [] if extra_index_urls is None else extra_index_urls
        self.no_index = no_index
        self.mentions_git = mentions_git  # a git+ URL on the command line or in a -r/-c file


def split_option(arg: str) -> tuple[str, str | None]:
    """``--opt=value`` / ``-rFILE`` / ``-r=FILE`` -> (option, value); (arg, None) otherwise."""
    if arg.startswith("--"):
        option, eq, value = arg.partition("=")
        return option, value if eq else None
    for short in _SHORT_WITH_VALUE:
        if arg.startswith(short) and len(arg) > 2:
            return short, arg[2:].lstrip("=")
    return arg, None


def command_at(args: Sequence[str]) -> int | None:
    """The position of pip's subcommand (``install`` in ``pip -q --log x install ...``)."""
    n = 0
    while n < len(args):
        arg = args[n]
        if not arg.startswith("-") or arg == "-":
            return n
        option, value = split_option(arg)
        n += 2 if option in VALUE_OPTIONS and value is None else 1
    return None


def scan(args: Sequence[str], cwd: Path) -> PipArgs:
    """Read ``args`` (pip's arguments after the subcommand, or any command line) and files."""
    out = PipArgs()
    _scan_args(list(args), cwd, "command line", out, set(), constraint=False)
    return out


def _scan_args(args: list[str], base: Path, origin: str, out: PipArgs, seen: set[Path],
               constraint: bool) -> None:
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if _GIT_URL.search(arg):
            out.mentions_git = True
        if arg == "--":
            continue
        if arg.startswith("-") and arg != "-":
            option, value = split_option(arg)
            if option in VALUE_OPTIONS and value is None:
                value = args[i] if i < len(args) else None
                i += 1
                if value is not None and _GIT_URL.search(value):
                    out.mentions_git = True
            if option == "--no-index":
                out.no_index = True
            elif option in ("-i", "--index-url") and value:
                out.index_url = value
            elif option == "--extra-index-url" and value:
                out.extra_index_urls.append(value)
            elif option in ("-r", "--requirement") and value:
                _scan_file(value, base, out, seen, constraint)
            elif option in ("-c", "--constraint") and value:
                _scan_file(value, base, out, seen, constraint=True)
            continue
        if not constraint:
            name = requirement_name(arg, base)
            if name:
                out.names.setdefault(name, origin)


def canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


def requirement_name(text: str, base: Path) -> str | None:
    """The canonical name a requirement string installs from an index; None for paths/URLs."""
    from packaging.requirements import InvalidRequirement, Requirement

    text = text.strip()
    if not text or "://" in text or "/" in text or "\\" in text or text.endswith(_ARCHIVE):
        return None
    if text == "." or (base / text).exists():
        return None
    try:
        req = Requirement(text)
    except InvalidRequirement:
        return None  # pip will say what is wrong with it
    if req.url:
        return None  # name @ URL never consults an index
    return canonical(req.name)


def _scan_file(value: str, base: Path, out: PipArgs, seen: set[Path], constraint: bool) -> None:
    if "://" in value:
        return  # a remote requirements file: pip fetches it; privpip does not
    path = (base / value).resolve()
    if path in seen:
        return
    seen.add(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return  # pip reports a missing or unreadable file itself
    for line in logical_lines(text):
        if line.startswith("-"):
            try:
                parts = shlex.split(line)
            except ValueError:
                continue
            _scan_args(parts, path.parent, value, out, seen, constraint)
            continue
        if _GIT_URL.search(line):
            out.mentions_git = True
        if constraint:
            continue
        # A requirement, possibly followed by per-requirement options (--hash=..., etc.).
        requirement = re.split(r"\s+--?(?=[A-Za-z])", line, maxsplit=1)[0]
        name = requirement_name(requirement, path.parent)
        if name:
            out.names.setdefault(name, value)


def logical_lines(text: str) -> list[str]:
    """pip's requirement file lines: continuations joined, comments and blanks dropped."""
    return [line for _number, line in numbered_lines(text)]


def numbered_lines(text: str) -> list[tuple[int, str]]:
    """``logical_lines`` with the 1-based number of each one's first physical line."""
    out: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        if raw.endswith("\\"):
            pending.append(raw[:-1])
            continue
        joined = "".join([*pending, raw])
        pending = []
        line = re.sub(r"(^|\s+)#.*$", "", joined).strip()
        if line:
            out.append((start, line))
    if pending:
        line = re.sub(r"(^|\s+)#.*$", "", "".join(pending)).strip()
        if line:
            out.append((start, line))
    return out


# ---------------------------------------------------------------------------
# index options: where pip would be told about another index (the local index takes them over)

INDEX_URL, EXTRA_INDEX_URL, FIND_LINKS, NO_INDEX = (
    "--index-url", "--extra-index-url", "--find-links", "--no-index")
# pip (optparse) takes any unambiguous prefix of a long option; the shortest prefix that pip
# resolves to each index option (``--no-in`` is also --no-input, ``--ex`` --exists-action).
_INDEX_PREFIXES = {INDEX_URL: "--ind", EXTRA_INDEX_URL: "--ext", FIND_LINKS: "--fi",
                   NO_INDEX: "--no-ind"}
_SHORT_INDEX = {"-i": INDEX_URL, "-f": FIND_LINKS}
_SHORT_FLAGS = "qvUIhV"  # pip's short options without a value, which may lead a cluster
_SHORT_VALUES = "rcetifCdwb"  # pip's short options with a value


class IndexOption(NamedTuple):
    """One index option pip would obey: the option's long name, its value, where it is."""

    option: str  # INDEX_URL, EXTRA_INDEX_URL, FIND_LINKS or NO_INDEX
    value: str | None
    where: str  # "command line", or "FILE:LINE" for a requirement or constraint file
    span: tuple[int, int] | None = None  # argv positions [start, stop), command line only


class IndexOptions(NamedTuple):
    """Every index option of a command line and the files it names; what could not be read."""

    found: list[IndexOption]
    unreadable: list[str]  # "FILE: why", privpip cannot tell
    files: list[IndexOption]  # the command line's -r / -c options (option, file, span)


# uv's own spelling of --index-url (`uv pip install --default-index URL`): pip has no such
# option, so reading it in a pip command line costs nothing, and `privpip run -- uv pip ...`
# / `--installer uv` cannot name an index around the routing with it. uv's `--index
# [NAME=]URL` is already read: it is pip's shortest form of --index-url.
_UV_OPTIONS = {"--default-index": INDEX_URL}


def long_option(option: str) -> str:
    """``option`` with pip's abbreviations of the index options expanded (``--extra`` ...)
    and uv's ``--default-index`` read as --index-url."""
    if option in _UV_OPTIONS:
        return _UV_OPTIONS[option]
    for full, shortest in _INDEX_PREFIXES.items():
        if option.startswith(shortest) and full.startswith(option):
            return full
    return option


def _short_cluster(arg: str) -> tuple[str, str | None] | None:
    """``-qi URL`` / ``-vfdir``: the value-taking short option in a cluster and its value."""
    for n, char in enumerate(arg[1:], 1):
        if char in _SHORT_VALUES:
            return "-" + char, arg[n + 1:].lstrip("=") or None
        if char not in _SHORT_FLAGS:
            return None
    return None


def index_options(args: Sequence[str], cwd: Path) -> IndexOptions:
    """The index options in ``args`` (a pip command line) and in the -r/-c files it names."""
    out = IndexOptions([], [], [])
    _index_args(list(args), cwd, None, out, set())
    return out


def _index_args(args: list[str], base: Path, where: str | None, out: IndexOptions,
                seen: set[Path]) -> None:
    i = 0
    while i < len(args):
        start, arg = i, args[i]
        i += 1
        if arg == "--":
            if where is None:
                return  # what follows is not pip's (arguments after -- are requirements)
            continue
        if not arg.startswith("-") or arg == "-":
            continue
        if arg.startswith("--"):
            option, value = split_option(arg)
            option = long_option(option)
        else:
            cluster = _short_cluster(arg)
            if cluster is None:
                continue
            option, value = cluster
            option = _SHORT_INDEX.get(option, option)
        takes_value = option in VALUE_OPTIONS or len(option) == 2
        if takes_value and value is None and option != NO_INDEX:
            value = args[i] if i < len(args) else None
            i += 1
        if option in (INDEX_URL, EXTRA_INDEX_URL, FIND_LINKS, NO_INDEX):
            span = (start, i) if where is None else None
            out.found.append(IndexOption(option, value if option != NO_INDEX else None,
                                         where or "command line", span))
        elif option in ("-r", "--requirement", "-c", "--constraint") and value:
            if where is None:
                out.files.append(IndexOption(option, value, "command line", (start, i)))
            _index_file(value, base, out, seen)


def _index_file(value: str, base: Path, out: IndexOptions, seen: set[Path]) -> None:
    if "://" in value:
        out.unreadable.append(f"{value}: a remote requirements file (pip fetches it; privpip "
                              "cannot see which indexes it names)")
        return
    path = (base / value).resolve()
    if path in seen:
        return
    seen.add(path)
    try:
        data = path.read_bytes()
    except OSError:
        return  # pip reports a missing or unreadable file itself
    text = decode_requirements(data)
    if text is None:
        out.unreadable.append(f"{value}: cannot decode it as pip would")
        return
    for number, line in numbered_lines(text):
        if not line.startswith("-"):
            continue  # a requirement line: pip allows no index option there
        try:
            parts = shlex.split(line)
        except ValueError:
            out.unreadable.append(f"{value}:{number}: cannot split the line")
            continue
        _index_args(parts, path.parent, f"{value}:{number}", out, seen)


_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe\x00\x00", "utf-32-le"),
         (b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe", "utf-16-le"),
         (b"\xfe\xff", "utf-16-be"))


def decode_requirements(data: bytes) -> str | None:
    """A requirement file's text as pip decodes it (a BOM first, else UTF-8, else the locale)."""
    import locale

    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(encoding)
            except UnicodeDecodeError:
                return None
    for encoding in ("utf-8", locale.getpreferredencoding(False)):
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return None


_ENV_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)\}")


def expand_variables(text: str, env: Mapping[str, str]) -> str:
    """``${NAME}`` replaced as pip does in requirement files (upper case, digits, '_'; an
    unset one stays as written)."""
    return _ENV_VARIABLE.sub(lambda m: env.get(m.group(1), m.group(0)), text)


def private_copies(args: Sequence[str], cwd: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """``args`` with each -r / -c FILE of the command line replaced by a copy, and the copies
    (file name, text): every file of the set, nested ones included, without its
    --index-url / --extra-index-url lines (the caller took them over), its -r / -c options
    pointing at the other copies (by name: they all sit in one directory), and a relative
    --find-links made absolute where pip would resolve it against the file's directory.
    Other lines are kept as written, at their line numbers (pip's messages still match the
    original), so requirement paths keep resolving against the current directory, as pip
    resolves them. The new args carry ``COPY + name`` where a copy's path goes."""
    names: dict[Path, str] = {}
    copies: list[tuple[str, str]] = []

    def copy_of(value: str, base: Path) -> str:
        path = (base / value).resolve()
        if path not in names:
            names[path] = f"{len(names) + 1}-{path.name}"
            try:
                text = decode_requirements(path.read_bytes())
            except OSError:
                text = None
            if text is None:  # pip reports a missing file (index_options, an undecodable one)
                del names[path]
                return str(path)
            lines: list[str] = []
            for number, line in numbered_lines(text):
                lines += [""] * (number - 1 - len(lines))
                lines.append(_copied_line(line, path.parent, copy_of) if line.startswith("-")
                             else line)
            copies.append((names[path], "\n".join(lines) + "\n"))
        return names[path]

    out: list[str] = []
    done = 0
    for option in index_options(args, cwd).files:
        assert option.span is not None and option.value is not None
        start, stop = option.span
        out += [*args[done:start], option.option, COPY + copy_of(option.value, cwd)]
        done = stop
    out += args[done:]
    return out, copies


COPY = "\0privpip-copy:"  # where a private copy's path goes (never a real argument)


def _copied_line(line: str, base: Path, copy_of: Callable[[str, Path], str]) -> str:
    import os.path

    try:
        words = shlex.split(line)
    except ValueError:
        return line  # pip says what is wrong with it
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if word.startswith("--"):
            option, value = split_option(word)
            option = long_option(option)
        elif word.startswith("-") and word != "-" and (cluster := _short_cluster(word)):
            option, value = cluster
            option = _SHORT_INDEX.get(option, option)
        else:
            out.append(word)
            continue
        if (option in VALUE_OPTIONS or len(option) == 2) and value is None \
                and option != NO_INDEX and i < len(words):
            value = words[i]
            i += 1
        if option in (INDEX_URL, EXTRA_INDEX_URL):
            continue  # taken over
        if option in ("-r", "--requirement", "-c", "--constraint") and value \
                and "://" not in value:
            value = copy_of(value, base)
        elif option == FIND_LINKS and value and "://" not in value \
                and os.path.exists(base / value):
            # pip: a relative find-links in a file is the file's directory's, if it exists
            value = str(base / value)
        out += [option] if value is None else [option, value]
    return shlex.join(out)


def without(args: Sequence[str], options: Sequence[IndexOption]) -> list[str]:
    """``args`` with the command-line ``options`` (their spans) removed."""
    drop = {n for o in options if o.span for n in range(*o.span)}
    return [arg for n, arg in enumerate(args) if n not in drop]


# uv's global options that take a value (``uv --directory D pip ...``).
_UV_VALUE_OPTIONS = ("--config-file", "--directory", "--project", "--cache-dir", "--color",
                     "--python-preference", "--allow-insecure-host", "--trusted-host")
# Python's own options that take a value (``python -X dev -m pip``).
_PYTHON_VALUE_OPTIONS = ("-X", "-W", "--check-hash-based-pycs")


def installer_args_at(argv: Sequence[str]) -> tuple[int, str] | None:
    """Where pip's or ``uv pip``'s own arguments start in a command line, and which ("pip"
    or "uv"): ``pip ...``, ``pip3.11 ...``, ``python -m pip ...``, ``python3.12 -I -m pip``,
    ``uv [OPTIONS] pip ...``, ``python -m uv pip ...``. None for any other command."""
    import os.path

    if not argv:
        return None
    name = os.path.basename(argv[0]).lower().removesuffix(".exe")
    at = 1
    if re.fullmatch(r"python(\d+(\.\d+)?)?w?", name):
        while at < len(argv) and argv[at].startswith("-") and not argv[at].startswith("-m") \
                and argv[at] not in ("-c", "-"):
            at += 2 if argv[at] in _PYTHON_VALUE_OPTIONS else 1
        if at >= len(argv) or not argv[at].startswith("-m"):
            return None
        module = argv[at][2:] or (argv[at + 1] if at + 1 < len(argv) else "")
        at += 1 if argv[at][2:] else 2
        name = module
    if re.fullmatch(r"pip(\d+(\.\d+)?)?", name):
        return at, "pip"
    if name == "uv":
        while at < len(argv) and argv[at].startswith("-"):  # uv's global options
            at += 2 if argv[at] in _UV_VALUE_OPTIONS else 1
        if at < len(argv) and argv[at] == "pip":
            return at + 1, "uv"
    return None
