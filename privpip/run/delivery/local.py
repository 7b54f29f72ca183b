"""Local delivery: every index pip or uv would ask becomes an upstream of the per-run local index.

    configured indexes (+ the public index when none is the default)
    + what pip would otherwise be told (pip.conf, PIP_*/UV_* variables, -i/--extra-index-url)
      -> upstreams of one LocalIndex on the user's own loopback address (tokens stay here)
      -> the child: PIP_INDEX_URL / UV_DEFAULT_INDEX = the local index, NETRC with only the
         per-run credential for that address (plus the user's own entries for other hosts)

Index options privpip cannot take out of pip's hands (inside requirement files, a remote
requirements file, find-links URLs) refuse the run: letting them through would let pip ask
another index behind the local one's back, which is what routing exists to prevent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from privpip.core import identity, pipargs, pipconfig
from privpip.core.identity import DEFAULT_USERNAME
from privpip.core.secret import Secret, redact
from privpip.errors import UsageError
from privpip.localindex.model import SKIP_HINT
from privpip.run.delivery import Access

if TYPE_CHECKING:
    from privpip.checks.provenance import Recorder
    from privpip.config import Config
    from privpip.localindex import LocalIndex, Problem, Upstream

# Variables through which pip or uv would learn of an index; the child gets ours instead.
PIP_VARIABLES = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL")
UV_VARIABLES = ("UV_DEFAULT_INDEX", "UV_INDEX", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL")


class RoutingRefused(UsageError):
    """An index setting privpip cannot route through the local index."""


class TakenOver(NamedTuple):
    """An index pip or uv would have asked directly; now an upstream (no ownership)."""

    url: str  # as written, credential included
    # "pip.conf:3 (extra-index-url)", "PIP_EXTRA_INDEX_URL", "command line", "req.txt:2 (-i)"
    where: str
    replaces_default: bool = False  # an index-url: it stands where PyPI would
    in_args: bool = False  # given for this run (command line, requirement files)


class Plan:
    """The upstreams of one run, where each came from, and the child's arguments."""

    def __init__(self, args: Sequence[str] = (), strategy: str = "first-index") -> None:
        self.upstreams: list[Upstream] = []
        self.strategy = strategy  # the config's index-strategy
        self.origins: dict[str, str] = {}  # upstream name -> where / source
        self.args = list(args)  # the child's arguments, index options out
        # Requirement files that named indexes: private copies pip reads instead (name, text);
        # self.args point at them with pipargs.COPY + name (see with_copies).
        self.copies: list[tuple[str, str]] = []
        # file:// indexes (local mirrors, wheelhouses): no credential, nothing to route; pip
        # and uv are told of them as they are.
        self.passthrough: list[str] = []
        # A local find-links directory or file in the run (pip's settings, uv's, arguments,
        # requirement files): what the installer takes from it is not seen by privpip.
        self.find_links = False
        # uv's own files without their index URLs (uv_config_copy), which a uv child reads
        # instead of them; None: they name no index, uv reads them as always.
        self.uv_config: dict[str, object] | None = None


def _split_userinfo(url: str) -> tuple[str, str | None, Secret | None]:
    """``url`` without userinfo, and the username and password that were in it."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None, None
    netloc = parts.netloc.rpartition("@")[2]
    bare = urlunsplit(parts._replace(netloc=netloc))
    username = unquote(parts.username or "")
    password = unquote(parts.password) if parts.password is not None else None
    if password is None:  # https://TOKEN@host/: the token as the username (GitLab, others)
        return bare, DEFAULT_USERNAME if username else None, Secret(username) if username else None
    return bare, username or DEFAULT_USERNAME, Secret(password)


def display(url: str) -> str:
    """``url`` without its userinfo, redacted: fit for a message."""
    parts = urlsplit(url)
    return redact(urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2])))


def _uv_value(value: str) -> str:
    """uv's ``name=url`` form -> url."""
    name, eq, rest = value.partition("=")
    return rest if eq and "://" not in name else value


def taken_over(env: Mapping[str, str], cwd: Path, walk: pipargs.Walk, pip_command: str,
               prefix: str | Path | None, pip: bool = True, uv: bool = False,
               uv_config: Sequence[pipconfig.UvFile] | None = None
               ) -> tuple[list[TakenOver], list[str], list[tuple[str, str]], bool]:
    """What pip (and uv) would be told about indexes, the walked arguments without those
    options, the private copies of the requirement files pip must read instead (name,
    text), when they name indexes (see pipargs.private_copies; the arguments then point at
    the copies), and whether the run has a local find-links location. ``walk``: the run's
    one reading of pip's arguments and requirement files. With ``uv``, uv's own files count
    too (``uv_config``: read_uv_files, when the caller has them already).

    Refuses find-links URLs and requirement files it cannot read; a local find-links
    directory passes through.
    """
    found: list[TakenOver] = []
    find_links = False
    settings = pipconfig.effective(pipconfig.settings(env, prefix), pip_command) if pip else {}
    for key, setting in settings.items():
        where = f"{setting.location} ({key})" if setting.line else setting.location
        if key == "find-links":
            _refuse_find_links(setting.values, where)
            find_links = find_links or any(setting.values)
            continue
        for value in setting.values:
            found.append(TakenOver(value, where, replaces_default=key == "index-url"))
    if uv:
        for var in UV_VARIABLES:
            for value in env.get(var, "").split():
                found.append(TakenOver(_uv_value(value), var,
                                       replaces_default=var in ("UV_DEFAULT_INDEX",
                                                                "UV_INDEX_URL")))
        _refuse_find_links(env.get("UV_FIND_LINKS", "").split(), "UV_FIND_LINKS")
        find_links = find_links or bool(env.get("UV_FIND_LINKS", "").split())
        for setting in pipconfig.uv_settings(
                uv_config if uv_config is not None else read_uv_files(env, cwd)):
            table = "[pip] " if setting.section == "pip" else ""
            where = f"{setting.location} ({table}{setting.key})"
            if setting.key == "find-links":
                _refuse_find_links(setting.values, where)
                find_links = find_links or any(setting.values)
                continue
            for value in setting.values:
                found.append(TakenOver(value, where, replaces_default=setting.key == "index-url"
                                       or setting.section == "default"))
    for problem in walk.unreadable:
        raise RoutingRefused(
            f"cannot tell which indexes pip would use: {problem}",
            "download or fix the file and pass it with -r; privpip's config supplies the index")
    in_files = False
    for option in walk.options:
        in_file = option.where != "command line"
        if option.option == pipargs.FIND_LINKS:
            _refuse_find_links([option.value or ""], f"{option.where} ({option.option})")
            find_links = True
        elif option.option in (pipargs.INDEX_URL, pipargs.EXTRA_INDEX_URL) and option.value:
            in_files = in_files or in_file
            # pip expands ${VAR} in requirement files (a token kept out of the file).
            url = pipargs.expand_variables(option.value, env) if in_file else option.value
            where = (f"{option.where} ({option.option})" if in_file
                     else f"command line {option.option}")
            found.append(TakenOver(_uv_value(url), where, in_args=True,
                                   replaces_default=option.option == pipargs.INDEX_URL))
    taken = [o for o in walk.options
             if o.span and o.option in (pipargs.INDEX_URL, pipargs.EXTRA_INDEX_URL)]
    if not in_files:
        return found, pipargs.without(walk.args, taken), [], find_links
    # pip reads a copy of the file set without those lines, never the original's.
    rest, copies = pipargs.private_copies(walk, taken)
    return found, rest, copies, find_links


def read_uv_files(env: Mapping[str, str], cwd: Path) -> list[pipconfig.UvFile]:
    """The uv configuration files uv would read here (pipconfig.uv_files); one it cannot
    read refuses the run, since privpip could not tell which indexes it names."""
    try:
        return pipconfig.uv_files(env, cwd)
    except pipconfig.UvConfigError as exc:
        raise RoutingRefused(f"cannot tell which indexes uv would use: {exc}",
                             "fix the file (uv would refuse it too)") from None


def uv_config_copy(files: Sequence[pipconfig.UvFile]) -> dict[str, object] | None:
    """What a uv child reads instead of ``files`` (UV_CONFIG_FILE), when they name index
    URLs: the same settings without those (the local index took them over); None when
    they name none, so uv reads its files as it always does."""
    if not any(s.key != "find-links" for s in pipconfig.uv_settings(files)):
        return None
    return pipconfig.uv_without_indexes(files)


def _refuse_find_links(values: Sequence[str], where: str) -> None:
    for value in values:
        if "://" in value and not value.lower().startswith("file:"):
            raise RoutingRefused(
                f"{where}: find-links {redact(value)} is a URL, which pip would read "
                "directly, around privpip's routing",
                "use a local directory, serve the files from a configured index, or use "
                "--delivery netrc")


def plan(cfg: Config, accesses: Sequence[Access], taken: Sequence[TakenOver],
         args: Sequence[str] = (), netrc_path: Path | None = None,
         skip: Sequence[str] = ()) -> Plan:
    """The upstreams, in the order a name no index owns is looked up (private first):
    privpip's extra indexes in config order, its default index, the extra indexes taken over
    from pip (pip.conf, PIP_*/UV_* variables, the command line), and last the index that
    stands where pip's default would (the public index, or a taken-over index-url) when no
    configured index is the default. Duplicates of an earlier URL go, and so do the upstreams
    named in ``skip`` (--skip-index: this run does without them; not one that owns names).

    A configured index that declares ``packages`` and is not the default is explicit: it is
    asked only for the names it owns, so that it does not slow down or block the others."""
    from privpip.localindex import Upstream

    out = Plan(args, cfg.index_strategy)
    names: set[str] = set()

    def add(name: str, url: str, owns: tuple[str, ...], username: str | None,
            token: Secret | None, origin: str, explicit: bool = False) -> None:
        if any(identity.same_index(url, u.url) for u in out.upstreams):
            return
        if url.lower().startswith("file:"):
            if url not in out.passthrough:
                out.passthrough.append(url)
            return
        base, n = name, 1
        while name in names:
            n += 1
            name = f"{base}-{n}"
        names.add(name)
        if name in skip:
            if owns:  # leaving it out would let another index serve the names it owns
                raise UsageError(
                    f"--skip-index {name}: index {name!r} declares packages, so other names "
                    "never wait for it, and its own must not come from another index",
                    f"drop --skip-index {name}; its packages install once it can be reached")
            return
        try:
            upstream = Upstream(name, url, owns=owns, username=username, token=token,
                                explicit=explicit)
        except ValueError:
            raise RoutingRefused(
                f"{origin}: {redact(url)} is not an http(s) index URL privpip can route",
                "remove it, or use --delivery netrc") from None
        out.upstreams.append(upstream)
        out.origins[name] = origin

    ordered = ([a for a in accesses if not a.index.default]
               + [a for a in accesses if a.index.default])
    for access in ordered:
        cred = access.credential
        add(access.index.name, access.index.url, access.index.packages,
            cred.username if cred else None, cred.token if cred else None,
            f"configured ({cred.source})" if cred else "configured",
            explicit=not access.index.default)
    # pip asks one index-url: the command line's, else uv's or pip's variable or config.
    defaults = [t for t in taken if t.replaces_default]
    chosen = defaults[-1] if defaults else None
    if any(a.index.default for a in accesses):
        chosen = None  # privpip's default replaced pip's configured index-url before, too
    for item in taken:
        if item is chosen:
            continue
        if not item.replaces_default or item.in_args:
            _add_taken(add, item, "extra", netrc_path)
    if not any(a.index.default for a in accesses):
        if chosen is not None:
            _add_taken(add, chosen, "index-url", netrc_path)
        else:
            add("public", cfg.public_index, (), None, None, "public")
    unknown = [name for name in skip if name not in names]
    if unknown:
        raise UsageError(f"--skip-index {unknown[0]}: no index of this run has that name",
                         "this run's indexes: " + ", ".join(sorted(names)))
    return out


def _add_taken(add: Callable[..., None], item: TakenOver, name: str,
               netrc_path: Path | None) -> None:
    url, username, token = _split_userinfo(item.url)
    if token is None and netrc_path is not None:
        username, token = _netrc_entry(netrc_path, urlsplit(url).hostname or "")
    add(name, url, (), username, token, item.where)


def users_netrc_path(env: Mapping[str, str]) -> Path:
    """$NETRC, else ~/.netrc: where pip found credentials for a URL without any."""
    home = Path(env.get("HOME", "~")).expanduser()
    return Path(env["NETRC"]) if env.get("NETRC") else home / ".netrc"


def _netrc_entry(path: Path, host: str) -> tuple[str | None, Secret | None]:
    """The user's own netrc entry for ``host``: pip used it for this URL before the takeover."""
    import netrc

    try:
        entry = netrc.netrc(path).authenticators(host)
    except (OSError, netrc.NetrcParseError):
        return None, None
    if not entry or not entry[2]:
        return None, None
    return entry[0] or DEFAULT_USERNAME, Secret(entry[2])


def local_netrc_text(index: LocalIndex, users_netrc: str) -> str:
    """The user's own netrc, then the per-run credential for the local index's own address
    (a later entry wins); pip's netrc names hosts, not ports: nothing else listens there."""
    lines = [users_netrc.rstrip("\n"), ""] if users_netrc.strip() else []
    # Both values are generated (hex and URL-safe base64): portable in every netrc parser.
    lines.append(f"machine {index.host}\n\tlogin {index.username}\n"
                 f"\tpassword {index.password.reveal()}")
    return "\n".join(lines) + "\n"


def authenticated_url(index: LocalIndex) -> str:
    """The local URL with the per-run credential in it (uv: no 401 round trip per request)."""
    userinfo = quote(index.username, safe="") + ":" + quote(index.password.reveal(), safe="")
    return f"http://{userinfo}@{index.host}:{index.port}/simple/"


def with_copies(argv: Sequence[str], routed: Plan, private_dir: Path) -> list[str]:
    """``argv`` with each private copy of a requirement file written (0600) into
    ``private_dir`` and its path put where ``pipargs.COPY`` marks it."""
    from privpip.run.delivery.netrc import write_private

    for name, text in routed.copies:
        write_private(private_dir, name, text)
    return [str(private_dir / a.removeprefix(pipargs.COPY)) if a.startswith(pipargs.COPY)
            else a for a in argv]


def child_environment(index: LocalIndex, env: Mapping[str, str], private_dir: Path,
                      interactive: bool, pip: bool = True, uv: bool = False,
                      passthrough: Sequence[str] = (),
                      uv_config: Mapping[str, object] | None = None) -> dict[str, str]:
    """``env`` for a child that must reach every index through ``index``, and no token;
    ``passthrough``: file:// indexes the child reads itself; ``uv_config``: Plan.uv_config."""
    from privpip.run.delivery.netrc import users_netrc, write_private
    from privpip.run.delivery.pip import without_token_variables

    child = without_token_variables(env)
    for var in (*PIP_VARIABLES, *UV_VARIABLES):
        child.pop(var, None)
    if pip:
        child["PIP_INDEX_URL"] = index.url
        # A single blank clears a pip.conf extra-index-url; an empty value would not.
        child["PIP_EXTRA_INDEX_URL"] = " ".join(passthrough) or " "
        if not interactive:
            # pip asks "User for host:" on a 401 and dies with EOFError without a terminal.
            child.setdefault("PIP_NO_INPUT", "1")
        # pip keeps its HTTP cache only for https and trusted hosts: without this, every
        # run downloaded every file again. The loopback hop never leaves the machine.
        trusted = f"{index.host}:{index.port}"
        child["PIP_TRUSTED_HOST"] = " ".join([*env.get("PIP_TRUSTED_HOST", "").split(),
                                              trusted])
    if uv:
        child["UV_DEFAULT_INDEX"] = authenticated_url(index)
        if passthrough:
            child["UV_INDEX"] = " ".join(passthrough)
        if uv_config is not None:
            # UV_CONFIG_FILE replaces every file uv would discover: uv then keeps their other
            # settings but cannot read their index URLs behind the local index's back.
            import tomli_w

            child["UV_CONFIG_FILE"] = str(write_private(private_dir, "uv.toml",
                                                        tomli_w.dumps(uv_config)))
    path = write_private(private_dir, "netrc", local_netrc_text(index, users_netrc(env)))
    child["NETRC"] = str(path)
    child.pop("PRIVPIP_NETRC", None)
    return child


def git_lending_environment(cfg: Config, accesses: Sequence[Access], private_dir: Path
                            ) -> dict[str, str]:
    """PRIVPIP_NETRC for privpip's git credential helper: only the index credentials a
    [[git]] host borrows (same host name), so git+https dependencies keep working."""
    from privpip.credentials import index_on_host
    from privpip.run.delivery.netrc import netrc_text, write_private

    lent = []
    for git in cfg.git_hosts:
        index = index_on_host(git, cfg)
        lent += [a for a in accesses if index is not None and a.index == index]
    if not any(a.credential is not None for a in lent):
        return {}
    path = write_private(private_dir, "git-netrc", netrc_text(lent, None))
    return {"PRIVPIP_NETRC": str(path)}


def describe(problem: Problem, origins: Mapping[str, str], configured: Mapping[str, str],
             fix: Callable[[str], str] | None = None) -> str:
    """One line naming the index, what it answered and what fixes it (redacted). ``fix``
    gives the fix for a configured index's refused credential, for the source it came from
    (diagnose.fix_for)."""
    hint = problem.hint
    what = problem.what
    env_name = configured.get(problem.index)
    if hint.startswith("privpip login") and env_name is not None:
        source = origins.get(problem.index, "")
        if source.startswith("configured ("):
            what += f" to the token from {source.removeprefix('configured (').rstrip(')')}"
        else:
            what += " to a request without a credential"
        hint = (fix(problem.index) if fix is not None
                else f"privpip login {problem.index}, or set PRIVPIP_INDEX_{env_name}_TOKEN")
    elif hint.startswith("privpip login"):
        hint = f"check the credential of the index given by {origins.get(problem.index, '?')}"
    elif hint.startswith(SKIP_HINT) and not any(
            n in configured for n in problem.index.split(", ")):
        # Taken over from pip's settings: there is no [[index]] table to declare packages in.
        given = "; ".join(f"{n} from {origins.get(n, '?')}" for n in problem.index.split(", "))
        skip = " ".join(f"--skip-index {n}" for n in problem.index.split(", "))
        hint = (f"leave it out of this run: {skip} ({given}); or remove it there, or add it "
                "with `privpip index add` and declare its packages")
    where = f" ({problem.url})" if problem.url else ""
    return redact(f"privpip: index {problem.index!r}{where} {what}; {hint}")


def new_index(env: Mapping[str, str], routed: Plan, log: Callable[[str], None] | None = None,
              port: int | None = None, prefix: str | None = None,
              recorder: Recorder | None = None) -> LocalIndex:
    """A LocalIndex for ``routed`` that checks upstream TLS as pip would (its ``cert`` and
    ``client-cert`` settings, REQUESTS_CA_BUNDLE, SSL_CERT_FILE), so a company CA works.

    It listens on this user's own loopback address (:mod:`privpip.localindex.address`): on
    the kept port when ``port`` is None (the same URLs every run, so caches hit; a busy
    port falls back to a free one), else on ``port`` (0: a free one).

    With an https upstream, a configured bundle or client certificate is loaded here, so that
    a bad one is an error before anything runs; the system store is left to the index's own
    thread (see LocalIndex.serve). Without one, no TLS is set up at all."""
    from privpip.localindex import LocalIndex, address, ssl_context

    context = None
    if any(u.url.startswith("https:") for u in routed.upstreams):
        context = ssl_context(env, pipconfig.settings(env, prefix, keys=pipconfig.TLS_KEYS))
    timeout = upstream_timeout(env)
    # The indexes of privpip's config are connected to ahead; an index privpip only took
    # over, or the public one, is contacted when (and only if) a request needs it.
    configured = [name for name, origin in routed.origins.items()
                  if origin.startswith("configured")]
    host, kept_port = address.own(env)
    return LocalIndex(routed.upstreams, timeout=timeout, deadline=4 * timeout, log=log,
                      host=host, port=kept_port if port is None else port,
                      fall_back=port in (None, 0), ssl_context=context,
                      connect_ahead=configured, recorder=recorder, strategy=routed.strategy)


DEFAULT_UPSTREAM_TIMEOUT = 30.0


def upstream_timeout(env: Mapping[str, str]) -> float:
    """PRIVPIP_UPSTREAM_TIMEOUT: the longest wait, in seconds, for any one read from an
    upstream (a page request as a whole is also bounded, at four times that)."""
    raw = env.get("PRIVPIP_UPSTREAM_TIMEOUT", "").strip()
    if not raw:
        return DEFAULT_UPSTREAM_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise UsageError(f"PRIVPIP_UPSTREAM_TIMEOUT={raw!r} is not a number of seconds "
                         "between 0 and 3600", "e.g. PRIVPIP_UPSTREAM_TIMEOUT=60")
    return value


@contextmanager
def listening(cfg: Config, routed: Plan, log: Callable[[str], None] | None = None,
              env: Mapping[str, str] | None = None, recorder: Recorder | None = None,
              fix: Callable[[str], str] | None = None) -> Iterator[LocalIndex]:
    """The LocalIndex for ``routed``, listening; the caller calls its ``serve()`` once the
    child is started (runner.run's ``started``). Problems are printed when it stops, a
    refused credential with ``fix`` (see describe)."""
    index = new_index(env if env is not None else {}, routed, log, recorder=recorder)
    index.listen()
    try:
        yield index
    finally:
        try:
            index.close()
        finally:
            report(index, cfg, routed, fix=fix)


def report(index: LocalIndex, cfg: Config, routed: Plan,
           echo: Callable[[str], None] | None = None,
           fix: Callable[[str], str] | None = None) -> None:
    import sys

    configured = {i.name: i.env_name for i in cfg.indexes}
    problems = index.problems()
    # A page withheld only because an index refused its credential needs no line of its
    # own: the refusal's line names the one fix, and the page comes back with it.
    refused = {p.index for p in problems if p.hint.startswith("privpip login")}
    for problem in problems:
        if problem.hint.startswith(SKIP_HINT) and set(problem.index.split(", ")) <= refused:
            continue
        line = describe(problem, routed.origins, configured, fix)
        if echo is not None:
            echo(line)
        else:
            print(line, file=sys.stderr, flush=True)
