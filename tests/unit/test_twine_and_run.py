"""The pure parts of run / install --installer / upload: config keys, upload URLs, file names,
which Python reads the netrc, and reading twine's output."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from privpip import config
from privpip.config import Index
from privpip.config.schema import Settings, parse_text
from privpip.errors import ConfigError, UsageError
from privpip.run.delivery import twine
from privpip.run.delivery.netrc import netrc_reader
from tests.helpers import privpip, write_config

BASE = '[[index]]\nname = "corp"\nurl = "https://gitlab.example.com/api/v4/projects/42/packages/pypi/simple"\n'


# ---------------------------------------------------------------------------
# config


def test_installer_key():
    indexes, settings, _, _content = parse_text('installer = "uv"\n' + BASE, "privpip.toml")
    assert settings == Settings(installer="uv")
    assert indexes[0].name == "corp"


def test_installer_key_in_pyproject():
    text = '[tool.privpip]\ninstaller = "pip"\n[[tool.privpip.index]]\nname = "a"\nurl = "https://h/simple/"\n'
    assert parse_text(text, "pyproject.toml", pyproject=True).settings == Settings(installer="pip")


@pytest.mark.parametrize("value", ['"poetry"', "1", '["uv"]'])
def test_bad_installer(value):
    with pytest.raises(ConfigError) as info:
        parse_text(f"installer = {value}\n" + BASE, "privpip.toml")
    assert info.value.message.startswith("privpip.toml: installer: must be one of 'pip', 'uv'")


def test_project_installer_wins_over_user_file(tmp_path):
    user = tmp_path / "user.toml"
    user.write_text('installer = "uv"\n')
    project = tmp_path / "proj"
    project.mkdir()
    write_config(project, 'installer = "pip"\n' + BASE)
    cfg = config.load(project, {"PRIVPIP_USER_CONFIG": str(user)})
    assert cfg.installer == "pip"
    assert any("installer = 'uv' is overridden by" in note for note in cfg.notes)
    (project / "privpip.toml").write_text(BASE)
    assert config.load(project, {"PRIVPIP_USER_CONFIG": str(user)}).installer == "uv"


def test_upload_url_key():
    text = BASE + 'upload-url = "https://gitlab.example.com/api/v4/projects/7/packages/pypi"\n'
    (index,) = parse_text(text, "privpip.toml").indexes
    assert index.upload_url == "https://gitlab.example.com/api/v4/projects/7/packages/pypi"


@pytest.mark.parametrize("url, expected", [
    ("https://u:secret-value@host/upload", "upload-url: has credentials written into it"),
    ("http://host.example.com/upload", "uses http:// to host.example.com"),
    ("ftp://host/upload", "must be an http(s) URL of an upload endpoint"),
])
def test_bad_upload_url(url, expected):
    with pytest.raises(ConfigError) as info:
        parse_text(BASE + f'upload-url = "{url}"\n', "privpip.toml")
    assert expected in info.value.message
    assert "secret-value" not in info.value.message


def test_upload_url_http_loopback_is_fine():
    (index,) = parse_text(BASE + 'upload-url = "http://127.0.0.1:8080/"\n', "f").indexes
    assert index.upload_url == "http://127.0.0.1:8080/"


# ---------------------------------------------------------------------------
# upload URLs


@pytest.mark.parametrize("url, expected", [
    ("https://gitlab.example.com/api/v4/projects/42/packages/pypi/simple",
     "https://gitlab.example.com/api/v4/projects/42/packages/pypi"),
    ("https://gitlab.example.com/api/v4/projects/42/packages/pypi/simple/",
     "https://gitlab.example.com/api/v4/projects/42/packages/pypi"),
    ("https://gitlab.example.com/gitlab/api/v4/projects/group%2Fproj/packages/pypi/simple",
     "https://gitlab.example.com/gitlab/api/v4/projects/group%2Fproj/packages/pypi"),
    ("http://127.0.0.1:8080/simple/", "http://127.0.0.1:8080/"),
    ("https://pypi.corp.example.com/simple", "https://pypi.corp.example.com/"),
])
def test_derived_upload_url(url, expected):
    assert twine.upload_url(index_from(url)) == expected


def index_from(url: str, **keys: str) -> Index:
    """An index as privpip reads it from privpip.toml (provider inferred from the URL)."""
    text = f'[[index]]\nname = "corp"\nurl = "{url}"\n'
    text += "".join(f'{key} = "{value}"\n' for key, value in keys.items())
    return parse_text(text, "privpip.toml").indexes[0]


@pytest.mark.parametrize("url, expected", [
    ("https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/libs/simple/",
     "https://corp-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/libs/"),
    ("https://europe-west1-python.pkg.dev/proj/repo/simple/",
     "https://europe-west1-python.pkg.dev/proj/repo/"),
])
def test_derived_upload_url_for_cloud_providers(url, expected):
    assert twine.upload_url(index_from(url)) == expected


def test_explicit_upload_url_wins():
    index = Index("corp", "https://h.example.com/simple/", upload_url="https://h.example.com/up/")
    assert twine.upload_url(index) == "https://h.example.com/up/"


def test_gitlab_group_index_asks_for_a_project():
    index = index_from("https://gitlab.example.com/api/v4/groups/9/-/packages/pypi/simple")
    with pytest.raises(ConfigError) as info:
        twine.upload_url(index)
    assert "is a GitLab group index" in info.value.message
    assert info.value.message.startswith("privpip.toml: index 'corp'")
    assert "upload-url" in (info.value.hint or "")


def test_unknown_shape_asks_for_upload_url():
    with pytest.raises(ConfigError) as info:
        twine.upload_url(Index("corp", "https://nexus.example.com/repository/pypi-all/simple"))
    assert "does not know the upload endpoint" in info.value.message


# ---------------------------------------------------------------------------
# distribution files


@pytest.mark.parametrize("name, project, version", [
    ("corp_lib-1.2.0-py3-none-any.whl", "corp-lib", "1.2.0"),
    ("corp_lib-1.2.0rc1-1-py3-none-any.whl", "corp-lib", "1.2.0rc1"),
    ("corp_lib-1.2.0.tar.gz", "corp-lib", "1.2.0"),
    ("Corp.Lib-2!1.0.post1.zip", "corp-lib", "2!1.0.post1"),
])
def test_good_files(tmp_path, name, project, version):
    (tmp_path / name).write_bytes(b"")
    (dist,) = twine.collect([str(tmp_path / name)])
    assert (dist.project, dist.version) == (project, version)


@pytest.mark.parametrize("name, shown", [
    ("corp_lib-1.2.x-py3-none-any.whl", "'1.2.x' is not a valid version (PEP 440)"),
    ("corp_lib-banana.tar.gz", "'banana' is not a valid version (PEP 440)"),
    ("corp_lib-py3-none-any.whl", "not a valid wheel file name"),
    ("corp_lib-1.0.egg", "not a distribution"),
])
def test_bad_files(tmp_path, name, shown):
    (tmp_path / "corp_lib-1.0-py3-none-any.whl").write_bytes(b"")
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(UsageError) as info:
        twine.collect([str(tmp_path / "corp_lib-1.0-py3-none-any.whl"), str(tmp_path / name)])
    assert info.value.message.startswith(f"{tmp_path / name}: ")
    assert shown in info.value.message


def test_directory_stands_for_its_distributions(tmp_path):
    for name in ("a-1.0.tar.gz", "a-1.0-py3-none-any.whl", "README.txt"):
        (tmp_path / name).write_bytes(b"")
    assert [d.path.name for d in twine.collect([str(tmp_path)])] == [
        "a-1.0-py3-none-any.whl", "a-1.0.tar.gz"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UsageError, match="no .whl, .tar.gz or .zip files"):
        twine.collect([str(empty)])


# ---------------------------------------------------------------------------
# twine's output


def feed(lines: list[str], verbose: bool = False) -> tuple[twine.TwineOutput, list[str]]:
    shown: list[str] = []
    out = twine.TwineOutput(shown.append, verbose)
    for line in lines:
        out(line + "\n")
    return out, shown


GITLAB_REFUSAL = [
    "Uploading distributions to https://gitlab.example.com/api/v4/projects/42/packages/pypi",
    "Uploading corp_lib-1.2.0-py3-none-any.whl",
    "\x1b[34mINFO    \x1b[0m Response from https://gitlab.example.com/api/v4/projects/42/packages/pypi:",
    "         400 Bad Request",
    '\x1b[34mINFO    \x1b[0m {"message":"Validation failed: File name has already',
    '         been taken"}',
    "\x1b[31mERROR   \x1b[0m HTTPError: 400 Bad Request from https://gitlab.example.com/...",
    "         Bad Request",
]


def test_gitlab_refusal_is_recognized_and_info_hidden():
    out, shown = feed(GITLAB_REFUSAL)
    assert out.refused_as_existing()
    assert out.current == "corp_lib-1.2.0-py3-none-any.whl"
    assert [line.split()[0] for line in shown] == ["Uploading", "Uploading", "\x1b[31mERROR",
                                                   "Bad"]
    dist = twine.Dist(Path("corp_lib-1.2.0-py3-none-any.whl"), "corp-lib", "1.2.0")
    error = twine.refusal(out, [dist], Index("corp", "https://h/simple/"))
    assert error is not None
    assert error.message == ("version 1.2.0 of corp-lib (corp_lib-1.2.0-py3-none-any.whl) "
                             "already exists on index 'corp'; registries refuse re-uploads")


def test_verbose_shows_everything():
    _out, shown = feed(GITLAB_REFUSAL, verbose=True)
    assert len(shown) == len(GITLAB_REFUSAL)


def test_409_is_a_refusal_and_other_errors_are_not():
    out, _ = feed(["Uploading x-1.0.tar.gz", "ERROR    HTTPError: 409 Conflict from http://h/"])
    assert out.refused_as_existing()
    out, _ = feed(["Uploading x-1.0.tar.gz", "ERROR    HTTPError: 403 Forbidden from http://h/"])
    assert not out.refused_as_existing()
    assert twine.refusal(out, [], Index("corp", "https://h/simple/")) is None


# ---------------------------------------------------------------------------
# which Python reads the netrc under `privpip run`


def test_netrc_reader_python_option(tmp_path):
    target = netrc_reader(sys.executable, ["anything"], {"PATH": ""})
    assert target is not None and target.why == "--python"


def test_netrc_reader_command_is_python():
    target = netrc_reader(None, [sys.executable, "-m", "build"], {"PATH": ""})
    assert target is not None and (target.python, target.why) == (sys.executable, "COMMAND")


def test_netrc_reader_script_shebang(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "python3").symlink_to(sys.executable)
    for name, line in (("direct", f"#!{bindir / 'python3'}"), ("viaenv", "#!/usr/bin/env python3")):
        script = bindir / name
        script.write_text(line + "\nprint()\n")
        script.chmod(0o755)
    env = {"PATH": str(bindir)}
    for name in ("direct", "viaenv"):
        target = netrc_reader(None, [name], env)
        assert target is not None, name
        assert target.python == str(bindir / "python3")
        assert target.why == f"the #! line of {name}"
    (bindir / "shell").write_text("#!/bin/sh\necho\n")
    (bindir / "shell").chmod(0o755)
    assert netrc_reader(None, ["shell"], env) is None
    assert netrc_reader(None, ["missing"], env) is None


def test_netrc_reader_active_environment(make_venv):
    venv = make_venv()
    target = netrc_reader(None, ["sh"], {"VIRTUAL_ENV": str(venv), "PATH": ""})
    assert target is not None and target.why == "VIRTUAL_ENV"


def test_help_texts_list_the_new_commands():
    result = privpip("--help")
    assert "run" in result.stdout and "upload" in result.stdout
    assert "--installer [pip|uv]" in privpip("install", "--help").stdout
