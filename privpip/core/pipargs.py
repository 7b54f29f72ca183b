"""The one reader of pip command lines and requirement files: what a pip run asks for.

``walk`` reads a command line and every -r / -c file it names, nested ones included, once per
run, and its ``Walk`` is what every consumer reads: routing (the index options, the private
copies of the files), the dependency confusion check (the requested names, the index
options), git's delivery (a git+ URL anywhere) and where an install goes (--target). pip's
option forms are read as pip reads them (``-r FILE``, ``-rFILE``, ``-r=FILE``,
``--requirement=FILE``, clusters such as ``-qi URL``, unambiguous prefixes of the index
options). ``scan`` and ``migrate`` read a requirement file's option lines with ``walk`` too.
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

INDEX_URL, EXTRA_INDEX_URL, FIND_LINKS, NO_INDEX = (
    "--index-url", "--extra-index-url", "--find-links", "--no-index")
_REQUIREMENT, _CONSTRAINT = ("-r", "--requirement"), ("-c", "--constraint")
# pip (optparse) takes any unambiguous prefix of a long option; the shortest prefix that pip
# resolves to each index option (``--no-in`` is also --no-input, ``--ex`` --exists-action).
_INDEX_PREFIXES = {INDEX_URL: "--ind", EXTRA_INDEX_URL: "--ext", FIND_LINKS: "--fi",
                   NO_INDEX: "--no-ind"}
_SHORT_INDEX = {"-i": INDEX_URL, "-f": FIND_LINKS}
_SHORT_FLAGS = "qvUIhV"  # pip's short options without a value, which may lead a cluster
_SHORT_VALUES = "rcetifCdwb"  # pip's short options with a value
# uv's own spelling of --index-url (`uv pip install --default-index URL`): pip has no such
# option, so reading it in a pip command line costs nothing, and `privpip run -- uv pip ...`
# / `--installer uv` cannot name an index around the routing with it. uv's `--index
# [NAME=]URL` is already read: it is pip's shortest form of --index-url.
_UV_OPTIONS = {"--default-index": INDEX_URL}


class IndexOption(NamedTuple):
    """One index option pip would obey (or a -r / -c file): its long name, its value, where."""

    option: str  # INDEX_URL, EXTRA_INDEX_URL, FIND_LINKS or NO_INDEX (Walk.files: -r, -c...)
    value: str | None
    where: str  # "command line", or "FILE:LINE" for a requirement or constraint file
    span: tuple[int, int] | None = None  # argv positions [start, stop), command line only


class Walk(NamedTuple):
    """One reading of a pip command line and of the files it names (``walk``).

    A NamedTuple, not a frozen dataclass: install's start-up need not import dataclasses
    (with inspect, ast, dis and tokenize: about 8 ms) before pip is started."""

    args: tuple[str, ...] = ()  # the command line as given
    cwd: Path = Path()  # what its relative file names resolve against
    command_at: int | None = None  # pip's subcommand: the command line's first non-option
    options: tuple[IndexOption, ...] = ()  # command line (with spans) and files ("FILE:LINE")
    files: tuple[IndexOption, ...] = ()  # the command line's -r / -c options (with spans)
    unreadable: tuple[str, ...] = ()  # "FILE: why": which indexes it names, privpip cannot tell
    texts: tuple[tuple[Path, str], ...] = ()  # every file read: resolved path, decoded text
    # (requirement, the directory it is relative to, where: "command line" or -r FILE as
    # written): the arguments after the subcommand and the -r files' requirement lines
    requirements: tuple[tuple[str, Path, str], ...] = ()
    mentions_git: bool = False  # a git+ URL on the command line or in a -r / -c file
    target: str | None = None  # --target DIR

    @property
    def index_url(self) -> str | None:
        urls = [o.value for o in self.options if o.option == INDEX_URL and o.value]
        return urls[-1] if urls else None

    @property
    def extra_index_urls(self) -> list[str]:
        return [o.value for o in self.options if o.option == EXTRA_INDEX_URL and o.value]

    @property
    def no_index(self) -> bool:
        return any(o.option == NO_INDEX for o in self.options)

    def names(self) -> dict[str, str]:
        """The canonical names asked for from an index, each with where it was asked for
        first; paths, URLs and archives are none (packaging is imported only here)."""
        out: dict[str, str] = {}
        for text, base, where in self.requirements:
            name = requirement_name(text, base)
            if name:
                out.setdefault(name, where)
        return out

    def text(self, path: Path) -> str | None:
        """The decoded text of a file this walk read (``path`` resolved), else None."""
        return next((text for read, text in self.texts if read == path), None)


def walk(args: Sequence[str], cwd: Path, follow_files: bool = True) -> Walk:
    """Read ``args``, a pip command line (``install -q -r req.txt x``, pip's general options
    before the subcommand included), and, with ``follow_files``, every -r / -c file it
    names, nested ones too, each opened once."""
    reader = _Reader(follow_files)
    reader.read_args(list(args), cwd, None, "command line", constraint=False)
    return Walk(tuple(args), cwd, reader.command_at, tuple(reader.options),
                tuple(reader.files), tuple(reader.unreadable), tuple(reader.texts.items()),
                tuple(reader.requirements), reader.mentions_git, reader.target)


class _Reader:
    """What one walk has found so far."""

    def __init__(self, follow_files: bool) -> None:
        self.follow_files = follow_files
        self.command_at: int | None = None
        self.options: list[IndexOption] = []
        self.files: list[IndexOption] = []
        self.unreadable: list[str] = []
        self.texts: dict[Path, str] = {}
        self.requirements: list[tuple[str, Path, str]] = []
        self.mentions_git = False
        self.target: str | None = None
        self.seen: set[Path] = set()

    def read_args(self, args: list[str], base: Path, where: str | None, origin: str,
                  constraint: bool) -> None:
        """``where``: None for the command line, else "FILE:LINE" of a file's option line
        (``origin``: that FILE as written)."""
        i = 0
        only_positional = False  # after the command line's "--"
        while i < len(args):
            start, arg = i, args[i]
            i += 1
            if _GIT_URL.search(arg):
                self.mentions_git = True
            if arg == "--" and not only_positional:
                only_positional = where is None
                continue
            if only_positional or not arg.startswith("-") or arg == "-":
                if where is None and self.command_at is None:
                    self.command_at = start
                elif not constraint:
                    self.requirements.append((arg, base, origin))
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
                if value is not None and _GIT_URL.search(value):
                    self.mentions_git = True
            if option in (INDEX_URL, EXTRA_INDEX_URL, FIND_LINKS, NO_INDEX):
                self.options.append(IndexOption(
                    option, value if option != NO_INDEX else None, where or "command line",
                    (start, i) if where is None else None))
            elif option in (*_REQUIREMENT, *_CONSTRAINT) and value:
                if where is None:
                    self.files.append(IndexOption(option, value, "command line", (start, i)))
                self.read_file(value, base, constraint or option in _CONSTRAINT)
            elif option in ("-t", "--target") and where is None:
                self.target = value

    def read_file(self, value: str, base: Path, constraint: bool) -> None:
        if not self.follow_files:
            return
        if "://" in value:
            self.unreadable.append(f"{value}: a remote requirements file (pip fetches it; "
                                   "privpip cannot see which indexes it names)")
            return
        path = (base / value).resolve()
        if path in self.seen:
            return
        self.seen.add(path)
        try:
            data = path.read_bytes()
        except OSError:
            return  # pip reports a missing or unreadable file itself
        text = decode_requirements(data)
        if text is None:
            self.unreadable.append(f"{value}: cannot decode it as pip would")
            return
        self.texts[path] = text
        for number, line in numbered_lines(text):
            if line.startswith("-"):
                try:
                    parts = shlex.split(line)
                except ValueError:
                    self.unreadable.append(f"{value}:{number}: cannot split the line")
                    continue
                self.read_args(parts, path.parent, f"{value}:{number}", value, constraint)
                continue
            if _GIT_URL.search(line):
                self.mentions_git = True
            if not constraint:  # constraints limit versions; they do not ask for a package
                # A requirement, possibly followed by per-requirement options (--hash=...).
                requirement = re.split(r"\s+--?(?=[A-Za-z])", line, maxsplit=1)[0]
                self.requirements.append((requirement, path.parent, value))


def split_option(arg: str) -> tuple[str, str | None]:
    """``--opt=value`` / ``-rFILE`` / ``-r=FILE`` -> (option, value); (arg, None) otherwise."""
    if arg.startswith("--"):
        option, eq, value = arg.partition("=")
        return option, value if eq else None
    for short in _SHORT_WITH_VALUE:
        if arg.startswith(short) and len(arg) > 2:
            return short, arg[2:].lstrip("=")
    return arg, None


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


def numbered_lines(text: str) -> list[tuple[int, str]]:
    """pip's requirement file lines, continuations joined, comments and blanks dropped, each
    with the 1-based number of its first physical line."""
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


def private_copies(walk: Walk, drop: Sequence[IndexOption] = ()
                   ) -> tuple[list[str], list[tuple[str, str]]]:
    """``walk.args`` without the command-line options ``drop`` (the caller took them over)
    and with each -r / -c FILE replaced by a copy, and the copies (file name, text), made
    from the texts the walk read (no file is opened again): every file of the set, nested
    ones included, without its --index-url / --extra-index-url lines, its -r / -c options
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
            text = walk.text(path)
            if text is None:  # pip reports a missing file (the walk, an undecodable one)
                return str(path)
            names[path] = f"{len(names) + 1}-{path.name}"
            lines: list[str] = []
            for number, line in numbered_lines(text):
                lines += [""] * (number - 1 - len(lines))
                lines.append(_copied_line(line, path.parent, copy_of) if line.startswith("-")
                             else line)
            copies.append((names[path], "\n".join(lines) + "\n"))
        return names[path]

    edits = sorted([(o.span, None) for o in drop if o.span is not None]
                   + [(o.span, o) for o in walk.files if o.span is not None],
                   key=lambda edit: edit[0])
    out: list[str] = []
    done = 0
    for (start, stop), option in edits:
        out += walk.args[done:start]
        if option is not None and option.value is not None:
            out += [option.option, COPY + copy_of(option.value, walk.cwd)]
        done = stop
    out += walk.args[done:]
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
