"""privpip's keyring backend: which index a service names, and privpip's answer for it."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from privpip import keyring_backend
from privpip.config.model import Index
from privpip.credentials import store
from privpip.keyring_backend import PrivpipKeyring, lookup, owner

CORP = Index("corp", "https://pypi.corp.example/simple/")
SUB = Index("sub", "https://pypi.corp.example/simple/team/")
GL = Index("gl", "https://gitlab.example.com/api/v4/projects/7/packages/pypi/simple",
           provider="gitlab")
OFF = Index("open", "http://127.0.0.1:8080/simple/", auth=False)
DEPLOY = Index("deploy", "https://deploy.example.com:8443/simple/", username="deployer")


@pytest.mark.parametrize(("service", "username", "expected"), [
    ("https://pypi.corp.example/simple/", "__token__", "corp"),
    ("https://pypi.corp.example/simple", None, "corp"),  # trailing slash
    ("https://PYPI.Corp.Example/simple/", None, "corp"),  # host case
    ("https://pypi.corp.example:443/simple/", None, "corp"),  # default port
    ("https://pypi.corp.example/simple/corp-dep/", None, "corp"),  # a page under it
    # pypiserver-like: uploads (and files) under the server root, on the index's origin
    ("https://pypi.corp.example/packages/x.whl", None, "corp"),
    ("https://pypi.corp.example/simple/teamx/", None, "corp"),  # a prefix is not a parent
    ("https://pypi.corp.example/simple/team/pkg/", None, "sub"),  # the longest path wins
    ("http://pypi.corp.example/simple/", None, None),  # another scheme: another origin
    ("https://pypi.corp.example:8443/simple/", None, None),  # another port
    ("https://pypi.corp.example/simple/", "someone-else", None),  # not the index's user
    ("https://gitlab.example.com/api/v4/projects/7/packages/pypi", None, "gl"),  # upload URL
    ("https://gitlab.example.com/api/v4/projects/8/packages/pypi", None, None),
    ("https://gitlab.example.com/api/v4/projects/7/packages/pypix", None, None),
    ("deploy.example.com:8443", "deployer", "deploy"),  # pip's fallback: the bare host
    ("deploy.example.com:8443", "__token__", None),
    ("deploy.example.com", None, None),  # the default port: not the index's
    ("pypi.corp.example", None, None),  # two indexes on that host
    ("127.0.0.1:8080", None, None),  # auth = false
    ("http://127.0.0.1:8080/simple/", None, None),
    ("unrelated-service", "me", None),
    ("https://[::1/", None, None),  # not a URL
])
def test_owner(service, username, expected) -> None:
    found = owner(service, username, [CORP, SUB, GL, OFF, DEPLOY], {})
    assert (found.name if found else None) == expected


def test_owner_username_from_the_environment() -> None:
    env = {"PRIVPIP_INDEX_CORP_USERNAME": "me"}
    assert owner(CORP.url, "me", [CORP], env) == CORP
    assert owner(CORP.url, "__token__", [CORP], env) is None


def _project(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "privpip.toml").write_text(
        f'[[index]]\nname = "corp"\nurl = "{CORP.url}"\n{extra}', encoding="utf-8")
    return tmp_path


def test_exported_token(tmp_path: Path) -> None:
    env = {**os.environ, "PRIVPIP_INDEX_CORP_TOKEN": "tok-from-env", "PRIVPIP_TRUST": "1"}
    assert lookup(CORP.url + "corp-dep/", None, env, _project(tmp_path)) == (
        "__token__", "tok-from-env")
    assert lookup(CORP.url, "__token__", env, tmp_path) == ("__token__", "tok-from-env")


def test_unknown_url_is_fast_and_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    project = _project(tmp_path, f'token-command = ["touch", "{marker}"]\n')
    env = {**os.environ, "PRIVPIP_TRUST": "1"}
    started = time.perf_counter()
    for service in ("https://pypi.org/simple/", "pypi.org", "https://elsewhere.example/x/"):
        assert lookup(service, None, env, project) is None
    assert time.perf_counter() - started < 0.5
    assert not marker.exists()


def test_untrusted_file_sends_no_variable_and_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    project = _project(tmp_path, 'token-env = ["MY_TOKEN"]\n'
                                 f'token-command = ["sh", "-c", "touch {marker}; echo tok-cmd"]\n')
    env = {**os.environ, "MY_TOKEN": "tok-from-my-token"}
    assert lookup(CORP.url, None, env, project) is None
    assert not marker.exists()
    trusted = {**env, "PRIVPIP_TRUST": "1"}
    assert lookup(CORP.url, None, trusted, project) == ("__token__", "tok-from-my-token")
    del trusted["MY_TOKEN"]
    assert lookup(CORP.url, None, trusted, project) == ("__token__", "tok-cmd")
    assert marker.exists()


def test_token_commands_run_with_the_plugin_switched_off(tmp_path: Path) -> None:
    """A token command that asks keyring must not come back to privpip's backend."""
    seen = tmp_path / "seen"
    project = _project(tmp_path, 'token-command = ["sh", "-c", '
                                 f'"echo $PRIVPIP_KEYRING_PLUGIN > {seen}; echo tok-cmd"]\n')
    env = {**os.environ, "PRIVPIP_TRUST": "1"}
    assert lookup(CORP.url, None, env, project) == ("__token__", "tok-cmd")
    assert seen.read_text().strip() == "0"


def test_a_broken_config_gives_no_answer(tmp_path: Path, caplog) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "privpip.toml").write_text("[[index]\n", encoding="utf-8")
    assert lookup(CORP.url, None, dict(os.environ), tmp_path) is None
    assert "not answering from privpip's config" in caplog.text


def test_no_credential_gives_no_answer_and_never_prompts(tmp_path: Path, caplog) -> None:
    assert lookup(CORP.url, None, dict(os.environ), _project(tmp_path)) is None
    assert "no credential for index 'corp'" in caplog.text
    assert "never prompts" in caplog.text


def test_silent_inside_privpips_own_keyring_calls(tmp_path: Path, monkeypatch) -> None:
    """In the thread that runs privpip's own keyring calls, the backend ranks below keyring's
    cut-off (so the chainer and detection leave it out) and answers nothing."""
    monkeypatch.chdir(_project(tmp_path))
    monkeypatch.setenv("PRIVPIP_INDEX_CORP_TOKEN", "tok-from-env")
    monkeypatch.setenv("PRIVPIP_TRUST", "1")
    backend = PrivpipKeyring()
    assert backend.priority == keyring_backend.PRIORITY
    assert backend.get_password(CORP.url, "__token__") == "tok-from-env"
    seen: dict[str, object] = {}

    def inside() -> None:
        seen["priority"] = backend.priority
        seen["answer"] = backend.get_password(CORP.url, "__token__")
        seen["in_lookup"] = store.in_lookup()

    ks = store.KeyringStore(env=dict(os.environ))
    ks._bounded(inside, "read from")
    assert seen == {"priority": -1.0, "answer": None, "in_lookup": True}
    other = threading.Thread(target=lambda: seen.update(elsewhere=backend.priority))
    other.start()
    other.join()
    assert seen["elsewhere"] == keyring_backend.PRIORITY


def test_switched_off(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.chdir(_project(tmp_path))
    monkeypatch.setenv("PRIVPIP_INDEX_CORP_TOKEN", "tok-from-env")
    monkeypatch.setenv("PRIVPIP_TRUST", "1")
    monkeypatch.setenv("PRIVPIP_KEYRING_PLUGIN", "0")
    backend = PrivpipKeyring()
    assert backend.priority < 0
    assert backend.get_credential(CORP.url, None) is None


def test_writes_pass_to_the_next_backend() -> None:
    """keyring's chainer skips a backend whose set/delete raise NotImplementedError."""
    from keyring.errors import PasswordDeleteError, PasswordSetError

    backend = PrivpipKeyring()
    with pytest.raises(NotImplementedError) as raised:
        backend.set_password(CORP.url, "__token__", "x-token")
    assert isinstance(raised.value, PasswordSetError)
    assert "privpip login" in str(raised.value)
    with pytest.raises(NotImplementedError) as deleted:
        backend.delete_password(CORP.url, "__token__")
    assert isinstance(deleted.value, PasswordDeleteError)


def test_privpips_store_skips_its_own_backend_when_named(monkeypatch) -> None:
    """PYTHON_KEYRING_BACKEND naming privpip's backend (for other tools) leaves privpip's own
    lookups to the user's other backends."""
    env = {**os.environ,
           "PYTHON_KEYRING_BACKEND": "privpip.keyring_backend.PrivpipKeyring",
           "PRIVPIP_KEYRING_TIMEOUT": "10"}
    ks = store.KeyringStore.from_env(env)
    assert not ks.backend_name().startswith("privpip.")
    assert ks.chosen_by == "detected"


def test_a_lookup_imports_neither_pip_nor_click_nor_http(tmp_path: Path) -> None:
    """What a tool's process pays for privpip's backend: no pip, click or privpip's HTTP
    stack, one config load and one resolution (the token command's modules excepted)."""
    import subprocess
    import sys

    project = _project(tmp_path)
    probe = ("import sys, keyring.backend\n"
             "before = set(sys.modules)\n"
             "from privpip.keyring_backend import PrivpipKeyring\n"
             "print(PrivpipKeyring().get_password(sys.argv[1], '__token__'))\n"
             "print(PrivpipKeyring().get_password('https://pypi.org/simple/', '__token__'))\n"
             "new = set(sys.modules) - before\n"
             "print(sorted(m for m in new if m.split('.')[0] in ('pip', 'click', 'rich')"
             " or m in ('privpip.credentials.http', 'privpip.localindex', 'privpip.cli')))\n")
    env = {**os.environ, "PRIVPIP_INDEX_CORP_TOKEN": "tok-from-env", "PRIVPIP_TRUST": "1"}
    out = subprocess.run([sys.executable, "-c", probe, CORP.url], cwd=project, env=env,
                         capture_output=True, text=True, check=True).stdout
    assert out == "tok-from-env\nNone\n[]\n"


def test_exported_token_only_for_a_url_the_user_chose(tmp_path: Path) -> None:
    """The trust rule for exported tokens holds through the plugin: a URL that only an
    untrusted project file names gets nothing; the same URL from the user's own config, a
    trusted file or CI gets the token."""
    project = _project(tmp_path)
    env = {**os.environ, "PRIVPIP_INDEX_CORP_TOKEN": "tok-from-env"}
    assert lookup(CORP.url, None, env, project) is None
    user = tmp_path / "user.toml"
    user.write_text(f'[[index]]\nname = "corp"\nurl = "{CORP.url}"\n', encoding="utf-8")
    mine = {**env, "PRIVPIP_USER_CONFIG": str(user)}
    assert lookup(CORP.url, None, mine, project) == ("__token__", "tok-from-env")
    assert lookup(CORP.url, None, {**env, "CI": "true"}, project) == ("__token__", "tok-from-env")
    from privpip.config import trust

    trust.trust(project / "privpip.toml", env, [])
    assert lookup(CORP.url, None, env, project) == ("__token__", "tok-from-env")
