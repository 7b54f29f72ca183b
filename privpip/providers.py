"""Hosted registries' URL shapes, default usernames, token commands and CI job tokens.

Pure functions over URLs and mappings: config.py calls ``expand`` to turn shorthand keys into
a URL and ``infer`` to name the provider of a URL; credentials.py asks for the default
token command and the GitLab CI job token. Nothing here reads files or runs commands.

Documented forms (each covered by tests/test_providers.py):

- gitlab:        https://HOST/api/v4/projects/<id or url-encoded path>/packages/pypi/simple
                 https://HOST/api/v4/groups/<id or url-encoded path>/-/packages/pypi/simple
- codeartifact:  https://DOMAIN-OWNER.d.codeartifact.REGION.amazonaws.com/pypi/REPOSITORY/simple/
- google:        https://LOCATION-python.pkg.dev/PROJECT/REPOSITORY/simple/
- azure:         https://pkgs.dev.azure.com/ORGANIZATION[/PROJECT]/_packaging/FEED/pypi/simple/
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import quote, unquote, urlsplit

PROVIDERS = ("gitlab", "codeartifact", "google", "azure", "generic")

# Shorthand keys each provider understands (TOML key -> required?).
SHORTHAND: dict[str, dict[str, bool]] = {
    "gitlab": {"host": False, "project": False, "group": False},
    "codeartifact": {"domain": True, "owner": True, "region": True, "repository": True},
    "google": {"location": True, "project": True, "repository": True},
    "azure": {"organization": True, "project": False, "feed": True},
}
SHORTHAND_KEYS = tuple(dict.fromkeys(k for keys in SHORTHAND.values() for k in keys))
# A key that only one provider has names that provider when `provider` is not written.
_DISTINCTIVE = {"host": "gitlab", "group": "gitlab", "domain": "codeartifact",
                "owner": "codeartifact", "region": "codeartifact", "location": "google",
                "organization": "azure", "feed": "azure"}

USERNAMES = {
    "gitlab": "__token__",  # personal/project/group access tokens; deploy tokens set their own
    "codeartifact": "aws",
    "google": "oauth2accesstoken",
    "azure": "azure",  # Azure Artifacts ignores the username of a PAT; any non-empty one works
    "generic": "__token__",
}
GITLAB_CI_USERNAME = "gitlab-ci-token"
# The Azure DevOps application id: a token for this resource authenticates to Azure Artifacts.
AZURE_DEVOPS_RESOURCE = "499b84ac-1321-427f-aa17-267ca6975798"

# What to tell a user whose provider's CLI failed or is missing.
LOGIN_HINTS = {
    "codeartifact": "install the AWS CLI and sign in (`aws configure` or `aws sso login`)",
    "google": "install the Google Cloud CLI and sign in (`gcloud auth login`)",
    "azure": "install the Azure CLI and sign in (`az login`)",
}

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_CODEARTIFACT_HOST = re.compile(
    r"^(?P<domain>[a-z0-9-]+)-(?P<owner>\d{12})\.d\.codeartifact\."
    r"(?P<region>[a-z0-9-]+)\.amazonaws\.com$"
)
_CODEARTIFACT_PATH = re.compile(r"^/pypi/(?P<repository>[^/]+)/simple/?$")
_GOOGLE_HOST = re.compile(r"^(?P<location>[a-z0-9-]+)-python\.pkg\.dev$")
_GOOGLE_PATH = re.compile(r"^/(?P<project>[^/]+)/(?P<repository>[^/]+)/simple/?$")
_AZURE_PATH = re.compile(
    r"^/(?P<organization>[^/_][^/]*)(?:/(?P<project>[^/_][^/]*))?/_packaging/(?P<feed>[^/]+)"
    r"/pypi/simple/?$"
)
_AZURE_LEGACY_HOST = re.compile(r"^(?P<organization>[^.]+)\.pkgs\.visualstudio\.com$")
_AZURE_LEGACY_PATH = re.compile(
    r"^(?:/(?P<project>[^/_][^/]*))?/_packaging/(?P<feed>[^/]+)/pypi/simple/?$"
)
_GITLAB_PROJECT = re.compile(r"^(?P<prefix>.*?)/api/v4/projects/(?P<project>[^/]+)"
                             r"/packages/pypi/simple/?$")
_GITLAB_GROUP = re.compile(r"^(?P<prefix>.*?)/api/v4/groups/(?P<group>[^/]+)"
                           r"/-/packages/pypi/simple/?$")


class Parsed(NamedTuple):
    """What a provider URL says: the provider and the parts its shorthand names."""

    provider: str
    parts: Mapping[str, str]


def parse(url: str) -> Parsed:
    """The provider of ``url`` and its parts; provider "generic" when no shape matches."""
    split = urlsplit(url)
    host = (split.hostname or "").lower()
    path = split.path
    match = _CODEARTIFACT_HOST.match(host)
    path_match = _CODEARTIFACT_PATH.match(path)
    if match and path_match:
        return Parsed("codeartifact", {**match.groupdict(), **path_match.groupdict()})
    match = _GOOGLE_HOST.match(host)
    path_match = _GOOGLE_PATH.match(path)
    if match and path_match:
        return Parsed("google", {**match.groupdict(), **path_match.groupdict()})
    if host == "pkgs.dev.azure.com":
        path_match = _AZURE_PATH.match(path)
        if path_match:
            return Parsed("azure", _present(path_match.groupdict()))
    match = _AZURE_LEGACY_HOST.match(host)
    path_match = _AZURE_LEGACY_PATH.match(path)
    if match and path_match:
        return Parsed("azure", _present({**match.groupdict(), **path_match.groupdict()}))
    for pattern in (_GITLAB_PROJECT, _GITLAB_GROUP):
        path_match = pattern.match(path)
        if path_match:
            parts = _present(path_match.groupdict())
            prefix = parts.pop("prefix", "")
            base = f"{split.scheme}://{split.netloc}{prefix}"
            return Parsed("gitlab", {**{k: unquote(v) for k, v in parts.items()}, "base": base})
    return Parsed("generic", {})


def _present(parts: Mapping[str, str | None]) -> dict[str, str]:
    return {k: v for k, v in parts.items() if v}


def infer(url: str) -> str:
    return parse(url).provider


def provider_from_keys(keys: list[str]) -> str | None:
    """The provider that shorthand ``keys`` imply, None when they name none or several."""
    named = {_DISTINCTIVE[k] for k in keys if k in _DISTINCTIVE}
    return named.pop() if len(named) == 1 else None


# ---------------------------------------------------------------------------
# shorthand -> URL


class ShorthandError(ValueError):
    """A shorthand problem; ``key`` is the TOML key it concerns ("" for the index itself)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def expand(provider: str, keys: Mapping[str, str], env: Mapping[str, str]) -> str:
    """The index URL for ``provider`` from its shorthand ``keys`` (strings, already checked).

    Inside GitLab CI, a gitlab index may leave out ``host`` (CI_API_V4_URL fills it) and
    ``project``/``group`` (the pipeline's own project, CI_PROJECT_ID).
    """
    allowed = SHORTHAND.get(provider)
    if allowed is None:
        raise ShorthandError("provider",
                             f"provider {provider!r} has no shorthand keys; write `url`")
    for key in keys:
        if key not in allowed:
            raise ShorthandError(
                key, f"is not a {provider} key (its keys: {', '.join(allowed)})"
            )
    missing = [k for k, required in allowed.items() if required and k not in keys]
    if missing:
        raise ShorthandError(
            "", f"{provider} shorthand needs {', '.join(repr(m) for m in missing)} "
            f"(or write `url`)"
        )
    for key, value in keys.items():
        if "/" in value and not (provider == "gitlab" and key in ("host", "project", "group")):
            raise ShorthandError(key, f"{value!r} must not contain '/'")
    if provider == "gitlab":
        return _gitlab_url(keys, env)
    if provider == "codeartifact":
        if not re.fullmatch(r"\d{12}", keys["owner"]):
            raise ShorthandError("owner",
                                 "must be the 12-digit AWS account id that owns the domain")
        return (f"https://{keys['domain']}-{keys['owner']}.d.codeartifact.{keys['region']}"
                f".amazonaws.com/pypi/{quote(keys['repository'], safe='')}/simple/")
    if provider == "google":
        return (f"https://{keys['location']}-python.pkg.dev/{quote(keys['project'], safe='')}/"
                f"{quote(keys['repository'], safe='')}/simple/")
    scope = quote(keys["organization"], safe="")
    if keys.get("project"):
        scope += "/" + quote(keys["project"], safe="")
    feed = quote(keys["feed"], safe="")
    return f"https://pkgs.dev.azure.com/{scope}/_packaging/{feed}/pypi/simple/"


def in_gitlab_ci(env: Mapping[str, str]) -> bool:
    return env.get("GITLAB_CI") == "true"


def _gitlab_url(keys: Mapping[str, str], env: Mapping[str, str]) -> str:
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


# ---------------------------------------------------------------------------
# credentials and uploads


def default_username(provider: str) -> str:
    return USERNAMES.get(provider, USERNAMES["generic"])


def default_token_command(provider: str, url: str) -> tuple[str, ...]:
    """The CLI command whose stdout is a token for ``url``; () when the provider has none."""
    parsed = parse(url)
    if provider == "codeartifact" and parsed.provider == "codeartifact":
        p = parsed.parts
        return ("aws", "codeartifact", "get-authorization-token", "--domain", p["domain"],
                "--domain-owner", p["owner"], "--region", p["region"],
                "--query", "authorizationToken", "--output", "text")
    if provider == "google":
        return ("gcloud", "auth", "print-access-token")
    if provider == "azure":
        return ("az", "account", "get-access-token", "--resource", AZURE_DEVOPS_RESOURCE,
                "--query", "accessToken", "--output", "tsv")
    return ()


def gitlab_ci_job_token(url: str, env: Mapping[str, str]) -> tuple[str, str] | None:
    """(username, token) of the CI job token when running in GitLab CI on ``url``'s host."""
    token = env.get("CI_JOB_TOKEN")
    server = env.get("CI_SERVER_HOST", "").lower()
    if not (in_gitlab_ci(env) and token and server):
        return None
    if (urlsplit(url).hostname or "").lower() != server:
        return None
    return GITLAB_CI_USERNAME, token


if TYPE_CHECKING:  # only for the type checker: defining a Protocol costs start-up time
    from typing import Protocol

    class _HasUrl(Protocol):
        @property
        def provider(self) -> str: ...
        @property
        def url(self) -> str: ...


def upload_url(index: _HasUrl) -> str | None:
    """The URL twine uploads to for ``index`` (an Index); None when it cannot be derived.

    For `privpip upload`. GitLab group indexes take no uploads (packages belong to
    projects), and a generic index's upload endpoint is server-specific.
    """
    parsed = parse(index.url)
    if parsed.provider != index.provider:
        return None
    parts = parsed.parts
    if parsed.provider == "gitlab":
        if "project" not in parts:
            return None
        return f"{parts['base']}/api/v4/projects/{quote(parts['project'], safe='')}/packages/pypi"
    if parsed.provider in ("codeartifact", "google", "azure"):
        base = index.url.rstrip("/")[: -len("/simple")]
        return base + ("/upload/" if parsed.provider == "azure" else "/")
    return None
