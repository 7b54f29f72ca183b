"""[[git]] tables: parsing, validation errors, defaults, and merging with the user file."""

from __future__ import annotations

import pytest

from privpip import config
from privpip.config import GitHost
from privpip.config.schema import parse_text
from privpip.errors import ConfigError
from tests.helpers import privpip, write_config


def parse(text: str) -> list[GitHost]:
    return parse_text(text, "privpip.toml").git_hosts


def test_minimal_and_full_tables():
    hosts = parse(
        '[[git]]\nhost = "GitLab.Example.com"\n\n'
        '[[git]]\nhost = "git.example.com:8443"\nusername = "deploy-1"\n'
        'token-env = ["CI_DEPLOY_TOKEN", "GIT_TOKEN"]\n'
    )
    assert hosts == [
        GitHost("gitlab.example.com", None, (), "privpip.toml"),
        GitHost("git.example.com:8443", "deploy-1", ("CI_DEPLOY_TOKEN", "GIT_TOKEN"),
                "privpip.toml"),
    ]
    assert hosts[1].hostname == "git.example.com"
    assert hosts[1].port == 8443
    assert hosts[1].env_name == "GIT_EXAMPLE_COM_8443"


@pytest.mark.parametrize(("host", "username"), [
    ("github.com", "x-access-token"),
    ("bitbucket.org", "x-token-auth"),
    ("gitlab.com", "oauth2"),
    ("gitlab.example.com", "oauth2"),
])
def test_default_usernames(host, username):
    assert GitHost(host).default_username == username
    assert GitHost(host, username="me").default_username == "me"


def test_pyproject_table():
    text = '[tool.privpip]\ngit = [{host = "gitlab.example.com", username = "oauth2"}]\n'
    indexes, _settings, hosts, _content = parse_text(text, "pyproject.toml", pyproject=True)
    assert indexes == []
    assert hosts == [GitHost("gitlab.example.com", "oauth2", (), "pyproject.toml")]


@pytest.mark.parametrize(("text", "message"), [
    ('git = "gitlab.example.com"', "git: must be an array of tables ([[git]])"),
    ('[[git]]\nusername = "u"', "git[0]: missing required key 'host'"),
    ('[[git]]\nhost = "h.example.com"\nhots = 1',
     "git[0] ('h.example.com').hots: unknown key (did you mean 'host'?)"),
    ('[[git]]\nhost = "https://gitlab.example.com"',
     "host: must be a host name, optionally with :port (e.g. gitlab.example.com), not a URL"),
    ('[[git]]\nhost = "gitlab.example.com/group"', "not a URL"),
    ('[[git]]\nhost = "gitlab.example.com:0"', "not 'gitlab.example.com:0'"),
    ('[[git]]\nhost = "gitlab.example.com:99999"', "Port out of range"),
    ('[[git]]\nhost = "gitlab example.com"', "not 'gitlab example.com'"),
    ('[[git]]\nhost = ""', "host: must be a non-empty string"),
    ('[[git]]\nhost = 7', "host: must be a non-empty string"),
    ('[[git]]\nhost = "h.example.com"\nusername = "a:b"', "must not contain ':'"),
    ('[[git]]\nhost = "h.example.com"\ntoken-env = "1BAD"', "not a valid environment variable"),
    ('[[git]]\nhost = "a.example.com"\n[[git]]\nhost = "A.example.com"',
     "git[1].host: duplicate git host 'a.example.com' (also git[0])"),
])
def test_invalid(text, message):
    with pytest.raises(ConfigError) as info:
        parse(text)
    assert message in info.value.message


def test_credentials_in_host_are_refused():
    with pytest.raises(ConfigError) as info:
        parse('[[git]]\nhost = "oauth2:s3cr3tv4lue@gitlab.example.com"')
    assert info.value.message == (
        "privpip.toml: git[0].host: has credentials written into it (user@ or "
        "user:password@); config files are committed and must not hold secrets")


def test_literal_token_in_git_table_refused():
    with pytest.raises(ConfigError) as info:
        parse('[[git]]\nhost = "github.com"\nusername = "ghp_abcdefghijklmnopqrstuvwx"')
    assert "GitHub personal access token" in info.value.message


def test_user_file_git_hosts_merge(tmp_path, monkeypatch):
    user = tmp_path / "user.toml"
    user.write_text('[[git]]\nhost = "a.example.com"\nusername = "from-user"\n'
                    '[[git]]\nhost = "b.example.com"\n', encoding="utf-8")
    project = tmp_path / "proj"
    project.mkdir()
    write_config(project, '[[git]]\nhost = "a.example.com"\nusername = "from-project"\n')
    cfg = config.load(project, {"PRIVPIP_USER_CONFIG": str(user)})
    assert [(g.host, g.username) for g in cfg.git_hosts] == [
        ("a.example.com", "from-project"), ("b.example.com", None)]
    assert any("git host 'a.example.com' is overridden" in n for n in cfg.notes)


def test_load_without_search_ignores_project_file(tmp_path):
    write_config(tmp_path, '[[git]]\nhost = "planted.example.com"\n')
    assert config.load(tmp_path, {}).git_hosts
    assert config.load(tmp_path, {}, search=False).git_hosts == ()


def test_cli_reports_bad_git_table(tmp_path):
    write_config(tmp_path, '[[index]]\nname = "corp"\nurl = "https://gitlab.example.com/simple/"\n'
                 '[[git]]\nhost = "https://gitlab.example.com"\n')
    result = privpip("env", "--shell", "bash", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(
        "privpip: error: privpip.toml: git[0] ('https://gitlab.example.com').host: must be a "
        "host name")
    assert "Traceback" not in result.stderr


def test_ipv6_git_host_with_port():

    assert parse_text('[[git]]\nhost = "[::1]:8080"\n', "f").git_hosts[0].host == "[::1]:8080"
