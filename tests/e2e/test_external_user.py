"""Someone outside the project, given a read-only token and a URL, with no repository at all:
`index add --user`, `login` (token on stdin), `install`, `status`, `index list`."""

from __future__ import annotations

import os
from pathlib import Path

from tests.helpers import PLAIN_TOKEN, PLAINTEXT, installed, keyring_get, pp, venv_python


def test_external_user_flow_without_a_repository(index_server, make_venv, tmp_path):
    home = Path(os.environ["HOME"])
    user_file = home / ".config" / "privpip" / "config.toml"  # XDG_CONFIG_HOME from conftest
    somewhere = tmp_path / "anywhere"
    somewhere.mkdir()
    assert not user_file.parent.exists()

    added = pp("index", "add", "--user", "corp", index_server.url, "--default", cwd=somewhere)
    assert added.returncode == 0, added.stderr
    assert added.stdout == (f"privpip: added index corp (default) to {user_file}\n"
                            "next: privpip login corp   (or set PRIVPIP_INDEX_CORP_TOKEN)\n")
    text = user_file.read_text()
    assert text.startswith("# privpip's user config")
    assert f'url = "{index_server.url}"' in text
    assert PLAIN_TOKEN not in text

    login = pp("login", "corp", cwd=somewhere, env=PLAINTEXT, input=PLAIN_TOKEN + "\n")
    assert login.returncode == 0, login.stderr
    assert keyring_get(index_server.url, "__token__", PLAINTEXT).stdout.strip() == PLAIN_TOKEN

    venv = make_venv()
    install = pp("--no-input", "install", "--python", venv_python(venv), "corp-dep",
                 cwd=somewhere, env=PLAINTEXT, timeout=300)
    assert install.returncode == 0, install.stderr
    assert installed(venv, "corp_dep") == "corp-dep 1.0"

    status = pp("status", "--check", cwd=somewhere, env=PLAINTEXT)
    assert status.returncode == 0, status.stdout
    assert status.stdout.splitlines()[0] == f"config: {user_file} (user)"
    assert status.stdout.splitlines()[2].split()[:7] == [
        "corp", index_server.url, "default", "__token__", "keyring", "ok", "200"]

    listed = pp("index", "list", cwd=somewhere)
    assert listed.stdout.splitlines()[0] == f"config: {user_file} (user)"
    assert listed.stdout.splitlines()[2].split() == [
        "corp", index_server.url, "default", "-", str(user_file)]
    for path in [*home.rglob("*"), *tmp_path.rglob("*")]:
        if path.is_file() and "keyring" not in path.name and "site-packages" not in str(path):
            assert PLAIN_TOKEN not in path.read_text(errors="replace"), path


def test_init_user_then_index_add_user(tmp_path):
    user_file = tmp_path / "cfg" / "privpip" / "config.toml"
    env = {"PRIVPIP_USER_CONFIG": str(user_file)}
    first = pp("init", "--user", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("privpip: wrote cfg/privpip/config.toml\n")
    again = pp("init", "--user", cwd=tmp_path, env=env)
    assert again.returncode == 2
    assert "already exists; it was not overwritten" in again.stderr
    added = pp("index", "add", "--user", "ext", "https://pypi.example.com/simple/", cwd=tmp_path,
               env=env)
    assert added.returncode == 0, added.stderr
    assert not (tmp_path / "privpip.toml").exists()
    removed = pp("index", "remove", "--user", "ext", cwd=tmp_path, env=env)
    assert removed.returncode == 0, removed.stderr
    both = pp("--config", str(user_file), "index", "add", "--user", "x",
              "https://x.example.com/simple/", cwd=tmp_path, env=env)
    assert both.returncode == 2
    assert "--user and --config (or PRIVPIP_CONFIG) name different files" in both.stderr
