"""privpip migrate's plan, built in-process from files in a temporary project (no server)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from privpip.hygiene import migrate, scan
from tests.helpers import HOSTILE_TOKEN, PLAIN_TOKEN

GITLAB_PAT = "glpat-Q7x9Kd2mLp4Rt8Vw3Zy6"
GL = "gitlab.example.com/api/v4/projects/42/packages/pypi/simple"


def plan_for(root: Path, files: dict[str, str], config: str | None = None) -> migrate.Plan:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    if config is not None:
        (root / "privpip.toml").write_text(config)
    findings = scan.scan_project([], root, os.environ)
    return migrate.build_plan(findings, root, os.environ)


def new_text(plan: migrate.Plan, shown: str) -> str:
    (change,) = [c for c in plan.changes if c.shown == shown]
    return change.new


def test_requirement_index_options_are_removed_and_the_index_configured(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, {"requirements.txt": (
        "# deps\r\n"
        f"--index-url=https://__token__:{PLAIN_TOKEN}@{GL}/  # corp\r\n"
        f"--extra-index-url https://deploy:{PLAIN_TOKEN}@pypi.example.com/simple/\r\n"
        "requests==2.31\r\n")})
    assert new_text(plan, "requirements.txt") == "# deps\r\nrequests==2.31\r\n"
    config = new_text(plan, "privpip.toml")
    assert f'name = "gitlab-42"\nurl = "https://{GL}/"\ndefault = true' in config
    assert 'name = "pypi.example.com"\nurl = "https://pypi.example.com/simple/"\n' \
           'username = "deploy"' in config
    assert [(e.service, e.username) for e in plan.entries] == [
        (f"https://{GL}/", "__token__"), ("https://pypi.example.com/simple/", "deploy")]
    text = plan.describe()
    assert "takes index options in requirement files over anyway" in text
    assert PLAIN_TOKEN not in text and "****" in text


def test_requirement_options_are_read_as_pip_reads_them(tmp_path: Path) -> None:
    """pipargs' walker, not a pattern: an abbreviated option (pip's parser takes any
    unambiguous prefix) is an index option; the rest of the line is kept."""
    plan = plan_for(tmp_path, {"requirements.txt": (
        f"--extra https://deploy:{PLAIN_TOKEN}@pypi.example.com/simple/\n"
        f"-i https://__token__:{PLAIN_TOKEN}@{GL}/ --trusted-host gitlab.example.com\n"
        "requests==2.31\n")})
    assert new_text(plan, "requirements.txt") == (
        "--trusted-host gitlab.example.com\nrequests==2.31\n")
    config = new_text(plan, "privpip.toml")
    assert f'name = "gitlab-42"\nurl = "https://{GL}/"\ndefault = true' in config
    assert 'name = "pypi.example.com"\nurl = "https://pypi.example.com/simple/"\n' \
           'username = "deploy"' in config
    assert PLAIN_TOKEN not in new_text(plan, "requirements.txt")


def test_a_direct_url_in_requirements_is_left_for_the_user(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, {"requirements.txt":
                               f"pkg @ https://u:{PLAIN_TOKEN}@files.example.com/pkg-1.0.whl\n"})
    assert plan.empty and len(plan.skipped) == 1
    assert "remove it by hand: a direct URL, not an index" in plan.describe()


def test_pip_conf_index_setting_and_password_key(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, {
        "pip.conf": ("[global]\n"
                     "timeout = 30\n"
                     f"index-url = https://u:{PLAIN_TOKEN}@pypi.example.com/simple/\n"
                     "extra-index-url =\n"
                     "    https://mirror.example.com/simple/\n"
                     f"    https://v:{PLAIN_TOKEN}@other.example.com/simple/\n"
                     "[install]\n"
                     "index-url = https://plain.example.com/simple/\n"
                     "username = me\n"
                     "password = Pass-w0rd-Value\n")})
    assert new_text(plan, "pip.conf") == (
        "[global]\ntimeout = 30\nextra-index-url =\n    https://mirror.example.com/simple/\n"
        "[install]\nindex-url = https://plain.example.com/simple/\nusername = me\n")
    services = {(e.service, e.username) for e in plan.entries}
    assert services == {("https://pypi.example.com/simple/", "u"),
                        ("https://other.example.com/simple/", "v"),
                        ("https://plain.example.com/simple/", "me")}
    assert "privpip takes the index over" in plan.describe()


def test_pypirc_password_goes_to_twines_keyring_entry(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, {".pypirc": (
        "[distutils]\nindex-servers =\n    corp\n    pypi\n\n"
        "[corp]\nrepository = https://pypi.example.com/upload/\nusername = deploy\n"
        f"password = {HOSTILE_TOKEN}\n\n[pypi]\nusername = __token__\n"
        "password = pypi-AgEIcHlwaS5vcmcCJDExMjIzMzQ0\n")})
    text = new_text(plan, ".pypirc")
    assert "password" not in text and "username = deploy" in text
    assert [(e.service, e.username, e.token.reveal()) for e in plan.entries] == [
        ("https://pypi.example.com/upload/", "deploy", HOSTILE_TOKEN),
        ("https://upload.pypi.org/legacy/", "__token__", "pypi-AgEIcHlwaS5vcmcCJDExMjIzMzQ0")]
    assert not any(c.shown == "privpip.toml" for c in plan.changes)  # no index was needed
    assert HOSTILE_TOKEN not in plan.describe()


def test_env_and_dockerfile_literals_use_the_index_variable(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, {
        "requirements.txt": f"-i https://__token__:{GITLAB_PAT}@{GL}\n",
        ".env": f"# local\nGL_TOKEN={GITLAB_PAT}\nPRIVPIP_INDEX_GITLAB_42_TOKEN={GITLAB_PAT}\n",
        "Dockerfile": f"FROM python:3.12\nENV GL_TOKEN={GITLAB_PAT}\nRUN pip install x\n",
    })
    assert new_text(plan, ".env") == "# local\nGL_TOKEN=${PRIVPIP_INDEX_GITLAB_42_TOKEN}\n"
    assert new_text(plan, "Dockerfile") == (
        "FROM python:3.12\nARG PRIVPIP_INDEX_GITLAB_42_TOKEN\n"
        "ENV GL_TOKEN=${PRIVPIP_INDEX_GITLAB_42_TOKEN}\nRUN pip install x\n")
    assert plan.ci_variables == ["PRIVPIP_INDEX_GITLAB_42_TOKEN"]
    text = plan.describe()
    assert "--build-arg PRIVPIP_INDEX_GITLAB_42_TOKEN" in text and "type=secret" in text
    assert GITLAB_PAT not in text and GITLAB_PAT[5:] not in text


def test_a_literal_without_an_owner_is_left_for_the_user(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, {".env": f"GL_TOKEN={GITLAB_PAT}\n"})
    assert plan.empty
    assert "no configured index or git host this token belongs to" in plan.describe()


def test_git_url_becomes_a_git_entry(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, {"setup.cfg": (
        "[options]\ninstall_requires =\n"
        f"    dep @ git+https://oauth2:{GITLAB_PAT}@git.example.com/g/dep.git@v1\n")})
    assert new_text(plan, "setup.cfg").endswith(
        "    dep @ git+https://git.example.com/g/dep.git@v1\n")
    assert '[[git]]\nhost = "git.example.com"\nusername = "oauth2"\n' in \
        new_text(plan, "privpip.toml")
    (entry,) = plan.entries
    assert (entry.service, entry.username, entry.index) == \
        ("git:https://git.example.com", "oauth2", None)


def test_an_existing_index_is_reused(tmp_path: Path) -> None:
    config = '[[index]]\nname = "corp"\nurl = "https://pypi.example.com/simple/"\n'
    plan = plan_for(tmp_path, {"requirements.txt":
                               f"-i https://__token__:{PLAIN_TOKEN}@pypi.example.com/simple\n"},
                    config)
    assert not any(c.shown == "privpip.toml" for c in plan.changes)
    (entry,) = plan.entries
    assert entry.what == "index corp" and entry.service == "https://pypi.example.com/simple/"


@pytest.mark.parametrize("crash_at", [0, 1])
def test_write_many_leaves_each_file_whole(tmp_path: Path, crash_at: int) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("old a\n")
    b.write_text("old b\n")
    changes = [migrate.FileChange(a, "a.txt", "old a\n", "new a\n"),
               migrate.FileChange(b, "b.txt", "old b\n", "new b\n")]

    def crash(n: int) -> None:
        if n == crash_at:
            raise OSError("injected")

    with pytest.raises(OSError, match="injected"):
        migrate.write_all(changes, before_replace=crash)
    assert [a.read_text(), b.read_text()] == (["old a\n", "old b\n"] if crash_at == 0
                                              else ["new a\n", "old b\n"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]  # no temp left


def test_an_address_gets_a_generic_name_and_a_note_and_name_chooses(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        f"-i http://__token__:{PLAIN_TOKEN}@127.0.0.1:8080/simple/\n")
    findings = scan.scan_project((), tmp_path, os.environ)
    plan = migrate.build_plan(findings, tmp_path, os.environ)
    assert 'name = "index"' in new_text(plan, "privpip.toml")
    assert ("index 'index' (http://127.0.0.1:8080/simple/) got a generic name, its host being "
            "an address: choose one with --name NAME") in plan.describe()
    named = migrate.build_plan(findings, tmp_path, os.environ, name="corp")
    assert 'name = "corp"' in new_text(named, "privpip.toml")
    assert "generic name" not in named.describe()
