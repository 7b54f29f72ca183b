"""Hosted registries: one class per registry (URL shapes, username, token command, upload URL).

The registry works as keyring's backends do: each class says what its URLs look like, and
``REGISTRY`` lists them; adding a registry means adding one class. Nothing here reads files
or runs commands. Documented forms (each covered by the provider tests):

- gitlab:        https://HOST/api/v4/projects/<id or url-encoded path>/packages/pypi/simple
                 https://HOST/api/v4/groups/<id or url-encoded path>/-/packages/pypi/simple
- codeartifact:  https://DOMAIN-OWNER.d.codeartifact.REGION.amazonaws.com/pypi/REPOSITORY/simple/
- google:        https://LOCATION-python.pkg.dev/PROJECT/REPOSITORY/simple/
- azure:         https://pkgs.dev.azure.com/ORGANIZATION[/PROJECT]/_packaging/FEED/pypi/simple/
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import ClassVar, NamedTuple
from urllib.parse import SplitResult, quote, unquote, urlsplit

from privpip.config.model import Index
from privpip.core import identity
from privpip.core.identity import DEFAULT_USERNAME

GITLAB_CI_USERNAME = "gitlab-ci-token"
# The Azure DevOps application id: a token for this resource authenticates to Azure Artifacts.
AZURE_DEVOPS_RESOURCE = "499b84ac-1321-427f-aa17-267ca6975798"


class Parsed(NamedTuple):
    """What a provider URL says: the provider and the parts its shorthand names."""

    provider: str
    parts: Mapping[str, str]


class ShorthandError(ValueError):
    """A shorthand problem; ``key`` is the TOML key it concerns ("" for the index itself)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class Provider:
    """A registry. Subclasses fill in the class attributes and override what differs."""

    name: ClassVar[str]
    # Shorthand keys (TOML key -> required?); {} for a registry with none.
    shorthand: ClassVar[dict[str, bool]] = {}
    # Keys that name this registry when `provider` is not written.
    distinctive: ClassVar[tuple[str, ...]] = ()
    username: ClassVar[str] = DEFAULT_USERNAME
    # What to tell a user whose provider's CLI failed or is missing.
    login_hint: ClassVar[str | None] = None

    @classmethod
    def parse(cls, url: SplitResult) -> dict[str, str] | None:
        """The shorthand parts of ``url`` when it has this registry's shape, else None."""
        return None

    @classmethod
    def expand(cls, keys: Mapping[str, str], env: Mapping[str, str]) -> str:
        """The index URL from shorthand ``keys`` (known keys, slashes already checked)."""
        raise ShorthandError("provider",
                             f"provider {cls.name!r} has no shorthand keys; write `url`")

    @classmethod
    def token_command(cls, url: str) -> tuple[str, ...]:
        """The CLI command whose stdout is a token for ``url``; () when there is none."""
        return ()

    @classmethod
    def upload_url(cls, url: str, parts: Mapping[str, str]) -> str | None:
        """Where twine uploads for index ``url`` (of this shape, with ``parts``); None: unknown."""
        return None


def _present(parts: Mapping[str, str | None]) -> dict[str, str]:
    return {k: v for k, v in parts.items() if v}


def _without_simple(url: str) -> str:
    return url.rstrip("/")[: -len("/simple")]


class GitLab(Provider):
    name = "gitlab"
    shorthand = {"host": False, "project": False, "group": False}
    distinctive = ("host", "group")
    username = DEFAULT_USERNAME  # personal/project/group access tokens; deploy tokens set their own
    # The two shapes of a GitLab package registry's simple index (the only GitLab regexes).
    PROJECT = (r"^(?P<prefix>.*?)/api/v4/projects/(?P<project>[^/]+)"
               r"/packages/pypi/simple/?$")
    GROUP = r"^(?P<prefix>.*?)/api/v4/groups/(?P<group>[^/]+)/-/packages/pypi/simple/?$"

    @classmethod
    def parse(cls, url: SplitResult) -> dict[str, str] | None:
        if "/api/v4/" not in url.path:  # in both shapes: no pattern is compiled for others
            return None
        for pattern in (cls.PROJECT, cls.GROUP):
            match = re.match(pattern, url.path)
            if match:
                parts = _present(match.groupdict())
                prefix = parts.pop("prefix", "")
                base = f"{url.scheme}://{url.netloc}{prefix}"
                return {**{k: unquote(v) for k, v in parts.items()}, "base": base}
        return None

    @classmethod
    def expand(cls, keys: Mapping[str, str], env: Mapping[str, str]) -> str:
        """Inside GitLab CI, ``host`` may be left out (CI_API_V4_URL fills it), and
        ``project``/``group`` too (the pipeline's own project, CI_PROJECT_ID)."""
        if "project" in keys and "group" in keys:
            raise ShorthandError("group", "set either `project` or `group`, not both")
        ci = in_gitlab_ci(env)
        if "host" in keys:
            host = keys["host"].rstrip("/")
            base = host if "://" in host else f"https://{host}"
            api = f"{base}/api/v4"
        elif ci and env.get("CI_API_V4_URL"):
            api = env["CI_API_V4_URL"].rstrip("/")
        else:
            raise ShorthandError(
                "host", "is missing: write the GitLab host (e.g. host = \"gitlab.example.com\"); "
                "only inside GitLab CI can it be left out (CI_API_V4_URL fills it)"
            )
        if "group" in keys:
            return f"{api}/groups/{quote(keys['group'], safe='')}/-/packages/pypi/simple"
        if "project" in keys:
            project = keys["project"]
        elif ci and env.get("CI_PROJECT_ID"):
            project = env["CI_PROJECT_ID"]
        else:
            raise ShorthandError(
                "project", "is missing: write `project` (numeric id or path like \"group/app\") "
                "or `group`; only inside GitLab CI can both be left out (CI_PROJECT_ID fills it)"
            )
        return f"{api}/projects/{quote(project, safe='')}/packages/pypi/simple"

    @classmethod
    def upload_url(cls, url: str, parts: Mapping[str, str]) -> str | None:
        if "project" not in parts:
            return None  # a group index takes no uploads: packages belong to projects
        return f"{parts['base']}/api/v4/projects/{quote(parts['project'], safe='')}/packages/pypi"


class CodeArtifact(Provider):
    name = "codeartifact"
    shorthand = {"domain": True, "owner": True, "region": True, "repository": True}
    distinctive = ("domain", "owner", "region")
    username = "aws"
    login_hint = "install the AWS CLI and sign in (`aws configure` or `aws sso login`)"
    HOST = (r"^(?P<domain>[a-z0-9-]+)-(?P<owner>\d{12})\.d\.codeartifact\."
            r"(?P<region>[a-z0-9-]+)\.amazonaws\.com$")
    PATH = r"^/pypi/(?P<repository>[^/]+)/simple/?$"

    @classmethod
    def parse(cls, url: SplitResult) -> dict[str, str] | None:
        if ".codeartifact." not in (url.hostname or "").lower():
            return None
        return _host_and_path(cls.HOST, cls.PATH, url)

    @classmethod
    def expand(cls, keys: Mapping[str, str], env: Mapping[str, str]) -> str:
        if not re.fullmatch(r"\d{12}", keys["owner"]):
            raise ShorthandError("owner",
                                 "must be the 12-digit AWS account id that owns the domain")
        return (f"https://{keys['domain']}-{keys['owner']}.d.codeartifact.{keys['region']}"
                f".amazonaws.com/pypi/{quote(keys['repository'], safe='')}/simple/")

    @classmethod
    def token_command(cls, url: str) -> tuple[str, ...]:
        parsed = parse(url)
        if parsed.provider != cls.name:
            return ()
        p = parsed.parts
        return ("aws", "codeartifact", "get-authorization-token", "--domain", p["domain"],
                "--domain-owner", p["owner"], "--region", p["region"],
                "--query", "authorizationToken", "--output", "text")

    @classmethod
    def upload_url(cls, url: str, parts: Mapping[str, str]) -> str | None:
        return _without_simple(url) + "/"


class ArtifactRegistry(Provider):
    name = "google"
    shorthand = {"location": True, "project": True, "repository": True}
    distinctive = ("location",)
    username = "oauth2accesstoken"
    login_hint = "install the Google Cloud CLI and sign in (`gcloud auth login`)"
    HOST = r"^(?P<location>[a-z0-9-]+)-python\.pkg\.dev$"
    PATH = r"^/(?P<project>[^/]+)/(?P<repository>[^/]+)/simple/?$"

    @classmethod
    def parse(cls, url: SplitResult) -> dict[str, str] | None:
        if not (url.hostname or "").lower().endswith("-python.pkg.dev"):
            return None
        return _host_and_path(cls.HOST, cls.PATH, url)

    @classmethod
    def expand(cls, keys: Mapping[str, str], env: Mapping[str, str]) -> str:
        return (f"https://{keys['location']}-python.pkg.dev/{quote(keys['project'], safe='')}/"
                f"{quote(keys['repository'], safe='')}/simple/")

    @classmethod
    def token_command(cls, url: str) -> tuple[str, ...]:
        return ("gcloud", "auth", "print-access-token")

    @classmethod
    def upload_url(cls, url: str, parts: Mapping[str, str]) -> str | None:
        return _without_simple(url) + "/"


class Azure(Provider):
    name = "azure"
    shorthand = {"organization": True, "project": False, "feed": True}
    distinctive = ("organization", "feed")
    username = "azure"  # Azure Artifacts ignores the username of a PAT; any non-empty one works
    login_hint = "install the Azure CLI and sign in (`az login`)"
    PATH = (r"^/(?P<organization>[^/_][^/]*)(?:/(?P<project>[^/_][^/]*))?/_packaging/"
            r"(?P<feed>[^/]+)/pypi/simple/?$")
    LEGACY_HOST = r"^(?P<organization>[^.]+)\.pkgs\.visualstudio\.com$"
    LEGACY_PATH = r"^(?:/(?P<project>[^/_][^/]*))?/_packaging/(?P<feed>[^/]+)/pypi/simple/?$"

    @classmethod
    def parse(cls, url: SplitResult) -> dict[str, str] | None:
        host = (url.hostname or "").lower()
        if host == "pkgs.dev.azure.com":
            path = re.match(cls.PATH, url.path)
            if path:
                return _present(path.groupdict())
        if not host.endswith(".pkgs.visualstudio.com"):
            return None
        legacy, path = re.match(cls.LEGACY_HOST, host), re.match(cls.LEGACY_PATH, url.path)
        if legacy and path:
            return _present({**legacy.groupdict(), **path.groupdict()})
        return None

    @classmethod
    def expand(cls, keys: Mapping[str, str], env: Mapping[str, str]) -> str:
        scope = quote(keys["organization"], safe="")
        if keys.get("project"):
            scope += "/" + quote(keys["project"], safe="")
        feed = quote(keys["feed"], safe="")
        return f"https://pkgs.dev.azure.com/{scope}/_packaging/{feed}/pypi/simple/"

    @classmethod
    def token_command(cls, url: str) -> tuple[str, ...]:
        return ("az", "account", "get-access-token", "--resource", AZURE_DEVOPS_RESOURCE,
                "--query", "accessToken", "--output", "tsv")

    @classmethod
    def upload_url(cls, url: str, parts: Mapping[str, str]) -> str | None:
        return _without_simple(url) + "/upload/"


class Generic(Provider):
    """Any PEP 503 index: pypiserver, devpi, Artifactory, Nexus, ..."""

    name = "generic"


REGISTRY: dict[str, type[Provider]] = {
    cls.name: cls for cls in (GitLab, CodeArtifact, ArtifactRegistry, Azure, Generic)
}
PROVIDERS = tuple(REGISTRY)
SHORTHAND_KEYS = tuple(dict.fromkeys(k for cls in REGISTRY.values() for k in cls.shorthand))


def get(name: str) -> type[Provider]:
    """The class of provider ``name`` (a validated config value), Generic when unknown."""
    return REGISTRY.get(name, Generic)


def _host_and_path(host_re: str, path_re: str, url: SplitResult) -> dict[str, str] | None:
    """The named groups of both patterns when the host (lowercased) and the path match.

    Patterns are compiled on first use (re's own cache), and each registry's parse() first
    checks a literal its host or path pattern requires: loading a config of plain indexes
    (pypiserver, Nexus, Artifactory, devpi) compiles none of them."""
    host, path = re.match(host_re, (url.hostname or "").lower()), re.match(path_re, url.path)
    return {**host.groupdict(), **path.groupdict()} if host and path else None


def parse(url: str) -> Parsed:
    """The provider of ``url`` and its parts; provider "generic" when no shape matches."""
    split = urlsplit(url)
    for cls in REGISTRY.values():
        parts = cls.parse(split)
        if parts is not None:
            return Parsed(cls.name, parts)
    return Parsed(Generic.name, {})


def infer(url: str) -> str:
    return parse(url).provider


# Looser than the index shapes above: any GitLab API path that names a project or group (an
# upload URL, a git remote), for naming what `migrate` finds.
_GITLAB_API = r"/api/v4/(?:projects|groups)/([^/]+)/"


def gitlab_project(url: str) -> str | None:
    """The project or group id (or path) a GitLab API URL names, None for other URLs."""
    match = re.search(_GITLAB_API, urlsplit(url).path)
    return match.group(1) if match else None


def guess(url: str) -> str:
    """The registry a URL most likely belongs to, for `scan`'s and `migrate`'s messages: a
    provider whose index shape matches, else by host (github, gitlab, pypi, artifactory),
    else "" (unknown)."""
    inferred = infer(url)
    if inferred != Generic.name:
        return inferred
    host = (urlsplit(url).hostname or "").lower()
    if host in ("github.com", "api.github.com") or host.endswith(".github.com"):
        return "github"
    if "gitlab" in host:
        return "gitlab"
    if host.endswith(("pypi.org", "pythonhosted.org")):
        return "pypi"
    if "jfrog" in host or "artifactory" in host:
        return "artifactory"
    return ""


def provider_from_keys(keys: list[str]) -> str | None:
    """The provider that shorthand ``keys`` imply, None when they name none or several."""
    named = {cls.name for cls in REGISTRY.values() for k in keys if k in cls.distinctive}
    return named.pop() if len(named) == 1 else None


def expand(provider: str, keys: Mapping[str, str], env: Mapping[str, str]) -> str:
    """The index URL for ``provider`` from its shorthand ``keys`` (strings, already checked)."""
    cls = get(provider)
    if not cls.shorthand:
        return cls.expand(keys, env)  # raises: no shorthand keys
    for key in keys:
        if key not in cls.shorthand:
            raise ShorthandError(
                key, f"is not a {provider} key (its keys: {', '.join(cls.shorthand)})"
            )
    missing = [k for k, required in cls.shorthand.items() if required and k not in keys]
    if missing:
        raise ShorthandError(
            "", f"{provider} shorthand needs {', '.join(repr(m) for m in missing)} "
            f"(or write `url`)"
        )
    for key, value in keys.items():
        if "/" in value and not (cls is GitLab and key in ("host", "project", "group")):
            raise ShorthandError(key, f"{value!r} must not contain '/'")
    return cls.expand(keys, env)


def in_gitlab_ci(env: Mapping[str, str]) -> bool:
    return env.get("GITLAB_CI") == "true"


def gitlab_ci_job_token(url: str, env: Mapping[str, str]) -> tuple[str, str] | None:
    """(username, token) of the CI job token when running in GitLab CI on ``url``'s host."""
    token = env.get("CI_JOB_TOKEN")
    server = env.get("CI_SERVER_HOST", "")
    if not (in_gitlab_ci(env) and token and server):
        return None
    if not identity.same_host(identity.hostname(url), server):
        return None
    return GITLAB_CI_USERNAME, token


def upload_url(index: Index) -> str | None:
    """The URL twine uploads to for ``index``, derived from its url; None when unknown.

    GitLab group indexes take no uploads (packages belong to projects), and a generic
    index's upload endpoint is server-specific.
    """
    parsed = parse(index.url)
    if parsed.provider != index.provider:
        return None
    return get(parsed.provider).upload_url(index.url, parsed.parts)


def gitlab_kind(url: str) -> str | None:
    """"project" or "group" for a GitLab package registry URL, else None."""
    parts = GitLab.parse(urlsplit(url))
    if parts is None:
        return None
    return "project" if "project" in parts else "group"
