"""Config loading: good files load; every bad file is one clear message, exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from privpip import config
from privpip.config.schema import parse_text
from privpip.core import identity
from privpip.errors import ConfigError
from tests.helpers import privpip

GOOD = """\
# the project's private indexes
[[index]]
name = "corp"
url = "https://gitlab.example.com/api/v4/groups/7/-/packages/pypi/simple"
default = true
token-env = ["GITLAB_TOKEN", "CI_TOKEN"]

[[index]]
name = "team.pkgs"
url = "https://pkgs.example.com/simple/"
username = "deploy-1"

[[index]]
name = "mirror"
url = "http://127.0.0.1:3141/root/pypi/+simple/"
auth = false
"""


def test_good_config_loads(tmp_path):
    (tmp_path / "privpip.toml").write_text(GOOD)
    cfg = config.load(tmp_path, {"PRIVPIP_TRUST": "1"})  # token-env: see tests/test_trust.py
    assert [i.name for i in cfg.indexes] == ["corp", "team.pkgs", "mirror"]
    corp, team, mirror = cfg.indexes
    assert corp.default and corp.token_env == ("GITLAB_TOKEN", "CI_TOKEN")
    assert corp.username == "__token__"
    assert team.username == "deploy-1" and team.env_name == "TEAM_PKGS"
    assert mirror.auth is False


def test_found_by_walking_up_and_pyproject(tmp_path):
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[[tool.privpip.index]]\nname = "p"\nurl = "https://h.example/simple/"\n'
    )
    cfg = config.load(deep, {})
    assert [i.name for i in cfg.indexes] == ["p"]
    (tmp_path / "a" / "privpip.toml").write_text('[[index]]\nname = "q"\nurl = "https://q.example/s/"\n')
    assert [i.name for i in config.load(deep, {}).indexes] == ["q"]


def test_user_file_adds_indexes_and_project_wins(tmp_path):
    (tmp_path / "privpip.toml").write_text(
        '[[index]]\nname = "corp"\nurl = "https://project.example/simple/"\ndefault = true\n')
    user = tmp_path / "user.toml"
    # The same name with the same URL (another URL is an error: tests/test_trust.py).
    user.write_text('[[index]]\nname = "corp"\nurl = "https://project.example/simple/"\n'
                    '[[index]]\nname = "mine"\nurl = "https://mine.example/simple/"\ndefault = true\n')
    cfg = config.load(tmp_path, {"PRIVPIP_USER_CONFIG": str(user)})
    assert [(i.name, i.url, i.default) for i in cfg.indexes] == [
        ("corp", "https://project.example/simple/", True),
        ("mine", "https://mine.example/simple/", False),
    ]
    assert any("overridden" in n for n in cfg.notes)


def test_explicit_config_and_env_override(tmp_path):
    other = tmp_path / "elsewhere.toml"
    other.write_text('[[index]]\nname = "x"\nurl = "https://x.example/simple/"\n')
    assert config.load(tmp_path, {"PRIVPIP_CONFIG": str(other)}).indexes[0].name == "x"
    assert config.load(tmp_path, {}, str(other)).indexes[0].name == "x"
    with pytest.raises(ConfigError, match="no such config file"):
        config.load(tmp_path, {}, str(tmp_path / "missing.toml"))


IDX = '[[index]]\nname = "corp"\n'
BAD = [
    # (file text, expected message fragment)
    ("[[index]\nname = 1", "privpip.toml: invalid TOML: "),
    ('[[index]]\nname = "a"\nurl = "https://h.example/s/"\nurl = "x"\n', "(at line 4"),
    (IDX, "index[0] ('corp'): missing required key 'url'"),
    ('[[index]]\nurl = "https://h.example/s/"\n', "index[0]: missing required key 'name'"),
    (IDX + 'url = "https://h.example/s/"\ntoken_env = "X"\n',
     "index[0] ('corp').token_env: unknown key (did you mean 'token-env'?)"),
    (IDX + 'url = "https://h.example/s/"\ndefualt = true\n', "(did you mean 'default'?)"),
    ('[[indexes]]\nname = "a"\n', "indexes: unknown key (did you mean 'index'?)"),
    (IDX + 'url = "https://h.example/s/"\n' + IDX + 'url = "https://i.example/s/"\n',
     "index[1].name: duplicate index name 'corp' (also index[0])"),
    # One PRIVPIP_INDEX_CORP_X_TOKEN, one index: spellings of a name are the same name.
    (IDX + 'url = "https://h.example/s/"\n[[index]]\nname = "CORP"\nurl = "https://i.example/s/"\n',
     "index[1].name: duplicate index name 'CORP' (also 'corp', index[0])"),
    ('[[index]]\nname = "corp-x"\nurl = "https://h.example/s/"\n[[index]]\nname = "corp.x"\n'
     'url = "https://h.example/s/"\n', "duplicate index name 'corp.x' (also 'corp-x', index[0])"),
    (IDX + 'url = "http://gitlab.example.com/simple/"\n',
     "index[0] ('corp').url: uses http:// to gitlab.example.com"),
    (IDX + 'url = "https://__token__:hunter2-secret@h.example/s/"\n',
     "index[0] ('corp').url: has credentials written into it"),
    (IDX + 'url = "https://h.example/s/"\n# token: glpat-AbCdEfGhIjKlMnOpQrSt\n',
     "privpip.toml:4: contains what looks like a GitLab personal access token (glpat-…)"),
    (IDX + 'url = "https://h.example/s/"\nusername = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"\n',
     "a GitHub personal access token (ghp_…)"),
    (IDX + 'url = "https://h.example/s/"\ndefault = "yes"\n',
     "index[0] ('corp').default: must be true or false"),
    (IDX + 'url = "ftp://h.example/s/"\n', "must be an http(s) URL"),
    (IDX + 'url = "https://h.example/s/"\ntoken-env = "1BAD"\n', "'1BAD' is not a valid environment"),
    ('[[index]]\nname = "bad name"\nurl = "https://h.example/s/"\n', "is not a valid index name"),
    (IDX + 'url = "https://h.example/s/"\nusername = "a:b"\n', "must not contain ':'"),
    (IDX + 'url = "https://a.example/s/"\ndefault = true\n[[index]]\nname = "b"\n'
     'url = "https://b.example/s/"\ndefault = true\n', "more than one index sets default = true"),
    ('index = "nope"\n', "index: must be an array of tables"),
    (IDX + 'url = "https://h.example:99999/s/"\n', "is not a valid URL"),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[m[:40] for _, m in BAD])
def test_bad_config_is_a_clear_error(text, message, tmp_path):
    (tmp_path / "privpip.toml").write_text(text)
    result = privpip("env", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert result.stderr.startswith("privpip: error: privpip.toml")
    assert "Traceback" not in result.stderr
    assert "hunter2-secret" not in result.stderr
    assert "AbCdEfGhIjKlMnOpQrSt" not in result.stderr
    assert "abcdefghijklmnopqrstuvwxyz0123456789" not in result.stderr


def test_pyproject_literal_token_is_refused_with_key_path(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[[tool.privpip.index]]\nname = "a"\nurl = "https://h.example/s/"\n'
        'token-env = "pypi-AgEIcHlwaS5vcmcCJGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6"\n')
    result = privpip("env", cwd=tmp_path)
    assert result.returncode == 2
    assert "tool.privpip.index[0].token-env: contains what looks like a PyPI API token" in result.stderr


def test_no_config_at_all(tmp_path):
    result = privpip("install", "x", cwd=tmp_path)
    assert result.returncode == 2
    assert "no private index is configured" in result.stderr


def test_unknown_index_name_suggests(tmp_path):
    (tmp_path / "privpip.toml").write_text('[[index]]\nname = "corp"\nurl = "https://h.example/s/"\n')
    result = privpip("env", "--index", "crop", cwd=tmp_path)
    assert result.returncode == 2
    assert "no index named 'crop' (did you mean 'corp'?)" in result.stderr


def test_not_utf8(tmp_path):
    (tmp_path / "privpip.toml").write_bytes(b"\xff\xfe[[index]]")
    result = privpip("env", cwd=tmp_path)
    assert result.returncode == 2 and "not UTF-8" in result.stderr


def test_loopback_http_allowed():
    for host in ("127.0.0.1", "127.8.9.10", "[::1]", "localhost"):
        assert parse_text(f'[[index]]\nname = "a"\nurl = "http://{host}:8/s/"\n', "f").indexes


def test_env_key_follows_uvs_rule():
    assert identity.name_key("corp.pkgs-2") == "CORP_PKGS_2"


def test_pyproject_whose_tool_is_not_a_table(tmp_path):
    """Found by the config fuzzer: `tool = "..."` crashed with AttributeError."""
    (tmp_path / "pyproject.toml").write_text('tool = "see tool.privpip"\n')
    result = privpip("--no-input", "--config", "pyproject.toml", "env", cwd=tmp_path)
    assert result.returncode == 2
    assert "tool: must be a table" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("text, expected", [
    ("[tool.privpip]\n", True),
    ('[[tool.privpip.index]]\nname = "a"\n', True),
    ('[ tool . "privpip" ]\n', True),
    ('[tool]\nprivpip = { installer = "uv" }\n', True),
    ('tool.privpip.installer = "uv"\n', True),
    ("[tool.privpip]\ninstaller = = 1\n", True),  # not TOML, but a header names it: reported
    ("# configured in ../privpip.toml, not in [tool.privpip]\n[project]\nname = 'x'\n", False),
    ("[tool.privpipx]\nkey = 1\n", False),
    ('[tool.other]\nnote = "tool.privpip lives elsewhere"\n', False),
    ('tool = "see tool.privpip"\n', False),
    ("[project]\nname = 'x'\n", False),
])
def test_has_privpip_table(text, expected):
    assert config.has_privpip_table(text) is expected


@pytest.mark.parametrize("pyproject", [
    "# the private indexes are configured in [tool.privpip] of ../privpip.toml\n"
    "[project]\nname = 'sub'\n",
    "[tool.privpipx]\nkey = 1\n",
])
def test_a_pyproject_without_the_table_does_not_stop_the_search(tmp_path, pyproject):
    """Regression: a comment mentioning tool.privpip, or [tool.privpipx], in a subdirectory's
    pyproject.toml stopped the upward search, and privpip said no index was configured."""
    (tmp_path / "privpip.toml").write_text('[[index]]\nname = "corp"\nurl = "https://h.example/simple/"\n')
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "pyproject.toml").write_text(pyproject)
    assert config.find_project_file(sub) == tmp_path / "privpip.toml"
    env = {"PRIVPIP_USER_CONFIG": str(tmp_path / "none.toml")}
    assert [i.name for i in config.load(sub, env).indexes] == ["corp"]


def test_user_config_file_matches_platformdirs(tmp_path):
    """The XDG rule privpip computes itself (for start-up time) is the one platformdirs uses."""
    import os

    import platformdirs

    for env in ({"HOME": str(tmp_path)}, {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "x")},
                {"HOME": str(tmp_path), "XDG_CONFIG_HOME": "relative/ignored"}):
        saved = {k: os.environ.get(k) for k in ("HOME", "XDG_CONFIG_HOME")}
        try:
            os.environ.pop("XDG_CONFIG_HOME", None)
            os.environ.update(env)
            expected = Path(platformdirs.user_config_dir("privpip", appauthor=False)) / "config.toml"
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        assert config.user_config_file(env) == expected, env
