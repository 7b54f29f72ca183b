"""Providers: URL shapes, shorthand keys, default usernames and token commands, CI job tokens.

The expected URLs are the forms each registry documents for pip.
"""

from __future__ import annotations

import pytest

from privpip import config, credentials
from privpip.config import providers
from privpip.config.schema import parse_text
from privpip.errors import ConfigError, CredentialNotFound, TokenCommandFailed
from tests import helpers

GITLAB_CI = {"GITLAB_CI": "true", "CI_JOB_TOKEN": "job-token-value",
             "CI_SERVER_HOST": "gitlab.example.com",
             "CI_API_V4_URL": "https://gitlab.example.com/api/v4", "CI_PROJECT_ID": "4711"}


def parse_one(body: str, env=None) -> config.Index:
    (index,) = parse_text('[[index]]\nname = "corp"\n' + body, "privpip.toml", env=env).indexes
    return index


def error_of(body: str, env=None) -> str:
    with pytest.raises(ConfigError) as info:
        parse_one(body, env)
    return info.value.message


# ---------------------------------------------------------------------------
# URLs from shorthand keys


@pytest.mark.parametrize(("body", "url"), [
    ('host = "gitlab.example.com"\nproject = 42\n',
     "https://gitlab.example.com/api/v4/projects/42/packages/pypi/simple"),
    ('host = "gitlab.example.com"\nproject = "my-group/sub/app"\n',
     "https://gitlab.example.com/api/v4/projects/my-group%2Fsub%2Fapp/packages/pypi/simple"),
    ('host = "gitlab.example.com"\ngroup = 7\n',
     "https://gitlab.example.com/api/v4/groups/7/-/packages/pypi/simple"),
    ('provider = "gitlab"\nhost = "https://example.com/gitlab"\ngroup = "corp/py"\n',
     "https://example.com/gitlab/api/v4/groups/corp%2Fpy/-/packages/pypi/simple"),
    ('domain = "my-domain"\nowner = 111122223333\nregion = "us-west-2"\nrepository = "my-repo"\n',
     "https://my-domain-111122223333.d.codeartifact.us-west-2.amazonaws.com/pypi/my-repo/simple/"),
    ('provider = "google"\nlocation = "us-central1"\nproject = "my-project"\n'
     'repository = "my-repo"\n',
     "https://us-central1-python.pkg.dev/my-project/my-repo/simple/"),
    ('organization = "contoso"\nproject = "web"\nfeed = "py-feed"\n',
     "https://pkgs.dev.azure.com/contoso/web/_packaging/py-feed/pypi/simple/"),
    ('organization = "contoso"\nfeed = "py-feed"\n',
     "https://pkgs.dev.azure.com/contoso/_packaging/py-feed/pypi/simple/"),
])
def test_shorthand_builds_the_documented_url(body, url):
    index = parse_one(body)
    assert index.url == url
    assert providers.infer(url) == index.provider


@pytest.mark.parametrize(("url", "provider", "parts"), [
    ("https://gitlab.com/api/v4/projects/123/packages/pypi/simple", "gitlab",
     {"project": "123", "base": "https://gitlab.com"}),
    ("https://gitlab.example.com/api/v4/projects/a%2Fb/packages/pypi/simple/", "gitlab",
     {"project": "a/b", "base": "https://gitlab.example.com"}),
    ("https://gitlab.example.com/api/v4/groups/9/-/packages/pypi/simple", "gitlab",
     {"group": "9", "base": "https://gitlab.example.com"}),
    ("https://d-111122223333.d.codeartifact.eu-central-1.amazonaws.com/pypi/r/simple/",
     "codeartifact", {"domain": "d", "owner": "111122223333", "region": "eu-central-1",
                      "repository": "r"}),
    ("https://europe-west4-python.pkg.dev/p/r/simple/", "google",
     {"location": "europe-west4", "project": "p", "repository": "r"}),
    ("https://pkgs.dev.azure.com/org/proj/_packaging/feed/pypi/simple/", "azure",
     {"organization": "org", "project": "proj", "feed": "feed"}),
    ("https://org.pkgs.visualstudio.com/_packaging/feed/pypi/simple/", "azure",
     {"organization": "org", "feed": "feed"}),
    ("https://nexus.example.com/repository/pypi-internal/simple/", "generic", {}),
    ("http://127.0.0.1:8080/simple/", "generic", {}),
])
def test_provider_inferred_from_url(url, provider, parts):
    parsed = providers.parse(url)
    assert parsed.provider == provider
    assert dict(parsed.parts) == parts


@pytest.mark.parametrize(("provider", "url", "upload"), [
    ("gitlab", "https://gitlab.example.com/api/v4/projects/a%2Fb/packages/pypi/simple",
     "https://gitlab.example.com/api/v4/projects/a%2Fb/packages/pypi"),
    ("gitlab", "https://gitlab.example.com/api/v4/groups/9/-/packages/pypi/simple", None),
    ("codeartifact",
     "https://d-111122223333.d.codeartifact.us-east-1.amazonaws.com/pypi/r/simple/",
     "https://d-111122223333.d.codeartifact.us-east-1.amazonaws.com/pypi/r/"),
    ("google", "https://us-python.pkg.dev/p/r/simple/", "https://us-python.pkg.dev/p/r/"),
    ("azure", "https://pkgs.dev.azure.com/o/p/_packaging/f/pypi/simple/",
     "https://pkgs.dev.azure.com/o/p/_packaging/f/pypi/upload/"),
    ("generic", "https://nexus.example.com/simple/", None),
    # an explicit provider that the URL does not match: nothing is guessed
    ("generic", "https://gitlab.example.com/api/v4/projects/1/packages/pypi/simple", None),
])
def test_upload_url(provider, url, upload):
    index = config.Index(name="x", url=url, provider=provider)
    assert providers.upload_url(index) == upload


# ---------------------------------------------------------------------------
# defaults: username and token command


def test_defaults_per_provider():
    gitlab = parse_one('url = "https://gitlab.example.com/api/v4/projects/1/packages/pypi/simple"')
    assert (gitlab.provider, gitlab.username, gitlab.token_command) == ("gitlab", "__token__", ())
    deploy = parse_one('host = "gitlab.example.com"\nproject = 1\n'
                       'username = "gitlab+deploy-token-3"\n')
    assert deploy.username == "gitlab+deploy-token-3"
    aws = parse_one('url = "https://dom-111122223333.d.codeartifact.eu-west-1.amazonaws.com'
                    '/pypi/repo/simple/"')
    assert aws.username == "aws"
    assert aws.token_command == (
        "aws", "codeartifact", "get-authorization-token", "--domain", "dom",
        "--domain-owner", "111122223333", "--region", "eu-west-1",
        "--query", "authorizationToken", "--output", "text")
    assert aws.token_command_is_default
    google = parse_one('url = "https://us-east1-python.pkg.dev/p/r/simple/"')
    assert google.username == "oauth2accesstoken"
    assert google.token_command == ("gcloud", "auth", "print-access-token")
    azure = parse_one('url = "https://pkgs.dev.azure.com/o/_packaging/f/pypi/simple/"')
    assert azure.username == "azure"
    assert azure.token_command == (
        "az", "account", "get-access-token", "--resource",
        "499b84ac-1321-427f-aa17-267ca6975798", "--query", "accessToken", "--output", "tsv")
    generic = parse_one('url = "https://pypi.example.com/simple/"')
    assert (generic.provider, generic.username, generic.token_command) == \
        ("generic", "__token__", ())


def test_token_command_forms():
    listed = parse_one('url = "https://x.example/simple/"\n'
                       'token-command = ["vault", "read", "-field=token", "secret/py"]\n')
    assert listed.token_command == ("vault", "read", "-field=token", "secret/py")
    assert not listed.token_command_is_default
    split = parse_one('url = "https://x.example/simple/"\n'
                      "token-command = \"my-cli get 'a b'\"\ntoken-timeout = 2.5\n")
    assert split.token_command == ("my-cli", "get", "a b")
    assert split.token_timeout == 2.5
    override = parse_one('url = "https://us-python.pkg.dev/p/r/simple/"\n'
                         'token-command = ["my-gcloud-wrapper"]\n')
    assert override.token_command == ("my-gcloud-wrapper",)


@pytest.mark.parametrize(("body", "message"), [
    ('provider = "gitlab"\n', "index[0] ('corp').host: is missing"),
    ('host = "gitlab.example.com"\n', "index[0] ('corp').project: is missing"),
    ('host = "h.example"\nproject = 1\ngroup = 2\n', "index[0] ('corp').group: set either"),
    ('domain = "d"\nowner = "12"\nregion = "r"\nrepository = "x"\n',
     "index[0] ('corp').owner: must be the 12-digit AWS account id"),
    ('domain = "d"\nowner = 111122223333\nregion = "r"\n',
     "index[0] ('corp'): codeartifact shorthand needs 'repository'"),
    ('provider = "google"\nlocation = "us"\nproject = "p"\nrepository = "r"\nfeed = "f"\n',
     "index[0] ('corp').feed: is not a google key"),
    ('host = "h.example"\nfeed = "f"\n', "index[0] ('corp'): cannot tell the provider"),
    ('url = "https://x.example/simple/"\nhost = "h"\n', "has both `url` and shorthand keys"),
    ('url = "https://x.example/simple/"\nprovider = "gitlb"\n',
     "index[0] ('corp').provider: unknown provider 'gitlb' (did you mean 'gitlab'?)"),
    ('url = "https://x.example/simple/"\ntoken-command = []\n',
     "index[0] ('corp').token-command: must name a command"),
    ('url = "https://x.example/simple/"\ntoken-command = 5\n',
     "index[0] ('corp').token-command: must be a list of strings"),
    ('url = "https://x.example/simple/"\ntoken-timeout = 0\n',
     "index[0] ('corp').token-timeout: must be more than 0"),
    ('url = "https://x.example/simple/"\npackages = ["ok", "not ok"]\n',
     "index[0] ('corp').packages: 'not ok' is not a package name"),
    ('provider = "generic"\n', "index[0] ('corp'): missing required key 'url'"),
    ('organization = "o/x"\nfeed = "f"\n', "index[0] ('corp').organization: 'o/x' must not"),
])
def test_validation_errors_name_the_key(body, message):
    assert message in error_of(body)


def test_packages_are_normalized():
    index = parse_one('url = "https://x.example/simple/"\npackages = ["Corp_*", "Internal.Lib"]\n')
    assert index.packages == ("corp-*", "internal-lib")


def test_public_index_key(tmp_path):
    helpers.write_config(
        tmp_path, 'public-index = "https://mirror.example/simple/"\n'
        '[[index]]\nname = "corp"\nurl = "https://x.example/simple/"\n')
    assert config.load(tmp_path, {}).public_index == "https://mirror.example/simple/"
    (tmp_path / "privpip.toml").write_text('public-index = "ftp://x"\n')
    with pytest.raises(ConfigError, match="public-index: must be an http"):
        config.load(tmp_path, {})
    (tmp_path / "privpip.toml").write_text("")
    assert config.load(tmp_path, {}).public_index == "https://pypi.org/simple/"


# ---------------------------------------------------------------------------
# GitLab CI


def test_gitlab_ci_fills_host_and_project():
    index = parse_one('provider = "gitlab"\n', env=GITLAB_CI)
    assert index.url == "https://gitlab.example.com/api/v4/projects/4711/packages/pypi/simple"
    group = parse_one('provider = "gitlab"\ngroup = "corp"\n', env=GITLAB_CI)
    assert group.url == "https://gitlab.example.com/api/v4/groups/corp/-/packages/pypi/simple"
    # outside CI the same variables mean nothing
    assert "host: is missing" in error_of('provider = "gitlab"\n',
                                          env={**GITLAB_CI, "GITLAB_CI": "false"})


GITLAB_INDEX = ('url = "https://gitlab.example.com/api/v4/projects/1/packages/pypi/simple"\n'
                'username = "gitlab+deploy-token-1"\n')


def resolve(index, env, store=None):
    return helpers.resolve(index, env, store, None)


def test_gitlab_ci_job_token_on_the_same_host():
    cred = resolve(parse_one(GITLAB_INDEX), GITLAB_CI)
    assert (cred.username, cred.token.reveal(), cred.source) == \
        ("gitlab-ci-token", "job-token-value", "env:CI_JOB_TOKEN")


def test_other_credentials_win_over_the_job_token():
    index = parse_one(GITLAB_INDEX)
    cred = resolve(index, {**GITLAB_CI, "PRIVPIP_INDEX_CORP_TOKEN": "deploy-secret"})
    assert (cred.username, cred.source) == ("gitlab+deploy-token-1",
                                            "env:PRIVPIP_INDEX_CORP_TOKEN")

    class Store:
        def get(self, service, username):
            return "from-keyring"

    assert resolve(index, GITLAB_CI, Store()).source == "keyring"


@pytest.mark.parametrize("change", [
    {"GITLAB_CI": ""}, {"CI_JOB_TOKEN": ""}, {"CI_SERVER_HOST": "gitlab.other.example"},
])
def test_job_token_only_in_ci_and_on_the_ci_host(change):
    with pytest.raises(CredentialNotFound):
        resolve(parse_one(GITLAB_INDEX), {**GITLAB_CI, **change})


def test_job_token_not_used_for_other_hosts_is_explained():
    with pytest.raises(CredentialNotFound) as info:
        resolve(parse_one(GITLAB_INDEX), {**GITLAB_CI, "CI_SERVER_HOST": "other.example"})
    assert "env:CI_JOB_TOKEN: only used for indexes on CI_SERVER_HOST (other.example)" in \
        info.value.message


# ---------------------------------------------------------------------------
# token commands in the resolution order (the command itself is faked here; see
# test_token_command.py for real processes)


def test_token_command_comes_after_keyring_and_gets_its_argv():
    index = parse_one('url = "https://dom-111122223333.d.codeartifact.eu-west-1.amazonaws.com'
                      '/pypi/repo/simple/"')
    calls = []

    def fake(argv, timeout, env, cwd):
        calls.append((tuple(argv), timeout))
        return "aws-token"

    cred = helpers.resolve(index, {}, None, None, run_command=fake)
    assert (cred.username, cred.token.reveal(), cred.source) == ("aws", "aws-token",
                                                                 "command:aws")
    assert calls == [(index.token_command, 60.0)]
    env_cred = helpers.resolve(index, {"PRIVPIP_INDEX_CORP_TOKEN": "tok1"}, None, None,
                                   run_command=fake)
    assert env_cred.source == "env:PRIVPIP_INDEX_CORP_TOKEN"
    assert len(calls) == 1


def test_missing_default_cli_falls_through_but_configured_one_fails():
    def missing(argv, timeout, env, cwd):
        raise credentials.CommandNotFound(f"`{argv[0]}` was not found on PATH")

    google = parse_one('url = "https://us-python.pkg.dev/p/r/simple/"')
    with pytest.raises(CredentialNotFound) as info:
        helpers.resolve(google, {}, None, None, run_command=missing)
    assert "command:gcloud: 'gcloud' is not installed" in info.value.message
    assert helpers.resolve(google, {}, None, lambda i, u: "typed",
                               run_command=missing).source == "prompt"

    explicit = parse_one('url = "https://x.example/simple/"\ntoken-command = ["vault", "x"]\n')
    with pytest.raises(TokenCommandFailed) as failed:
        helpers.resolve(explicit, {}, None, lambda i, u: "typed", run_command=missing)
    assert "index 'corp': token-command (in privpip.toml) failed: `vault` was not found" in \
        failed.value.message
    assert "PRIVPIP_INDEX_CORP_TOKEN" in str(failed.value.hint)


def test_a_new_registry_is_one_class(monkeypatch):
    """Everything privpip knows about a registry comes from its class in the registry."""
    import re
    from urllib.parse import SplitResult

    class Example(providers.Provider):
        name = "example"
        username = "example-user"
        login_hint = "sign in with `example login`"

        @classmethod
        def parse(cls, url: SplitResult) -> dict[str, str] | None:
            match = re.fullmatch(r"/feeds/(?P<feed>[^/]+)/simple/?", url.path)
            return match.groupdict() if url.hostname == "pkgs.example.net" and match else None

        @classmethod
        def token_command(cls, url: str) -> tuple[str, ...]:
            return ("example", "token")

        @classmethod
        def upload_url(cls, url, parts):
            return f"https://pkgs.example.net/upload/{parts['feed']}"

    monkeypatch.setitem(providers.REGISTRY, "example", Example)
    monkeypatch.setattr(providers, "PROVIDERS", tuple(providers.REGISTRY))
    index = parse_one('url = "https://pkgs.example.net/feeds/corp/simple/"\n')
    assert (index.provider, index.username) == ("example", "example-user")
    assert index.token_command == ("example", "token") and index.token_command_is_default
    assert providers.upload_url(index) == "https://pkgs.example.net/upload/corp"
    assert parse_one('provider = "example"\nurl = "https://other.example/simple/"\n').provider \
        == "example"


@pytest.mark.parametrize(("url", "guessed", "project"), [
    ("https://gitlab.example.com/api/v4/projects/42/packages/pypi/simple", "gitlab", "42"),
    ("https://gitlab.example.com/api/v4/projects/42/packages/pypi", "gitlab", "42"),  # upload
    ("https://git.corp.example/api/v4/groups/7/-/packages/pypi/simple/", "gitlab", "7"),
    ("https://github.com/org/repo.git", "github", None),
    ("https://upload.pypi.org/legacy/", "pypi", None),
    ("https://corp.jfrog.io/artifactory/api/pypi/pypi/simple", "artifactory", None),
    ("https://h.example/simple/", "", None),
])
def test_url_shapes_for_scan_and_migrate_live_here(url, guessed, project):
    """scan's provider guess and migrate's index names read GitLab/GitHub URL shapes here."""
    assert providers.guess(url) == guessed
    assert providers.gitlab_project(url) == project
