"""privpip scan: a real git repository with tokens in every supported file kind."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import quote

import pytest

from privpip.hygiene import scan
from tests.gitserver import git as _git
from tests.helpers import HOSTILE_TOKEN, privpip

GITLAB_PAT = "glpat-Q7x9Kd2mLp4Rt8Vw3Zy6"
GITHUB_PAT = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
PYPI_TOKEN = "pypi-AgEIcHlwaS5vcmcCJDExMjIzMzQ0"
PLAIN = "s3cr3t-Pl4in_val.ue"
HOSTILE = HOSTILE_TOKEN
SECRETS = [GITLAB_PAT, GITHUB_PAT, PYPI_TOKEN, PLAIN, HOSTILE, "dockerTok-998877", "pdm-S3cret-77"]

GL = "gitlab.example.com/api/v4/projects/42/packages/pypi/simple"

# path -> (text, [(line, kind fragment)]) ; every file in the fixture repository.
LEAKY: dict[str, tuple[str, list[tuple[int, str]]]] = {
    "requirements.txt": (
        "# the private index\r\n"
        f"--extra-index-url https://__token__:{quote(HOSTILE, safe='')}@{GL}\r\n"
        "requests==2.31\r\n"
        "-r requirements/dev.in\r\n",
        [(2, "password in URL")]),
    "requirements/dev.in": (
        f"corp-dep @ git+https://{GITHUB_PAT}@github.com/org/dep.git@v1\n",
        [(1, "token as the URL's user name")]),
    "constraints.txt": (
        "\n\n\n"
        f"-i https://deploy:{PLAIN}@pypi.example.com/simple/\n",
        [(4, "password in URL")]),
    "pip.conf": (
        "[global]\nindex-url = https://pypi.org/simple/\n"
        f"extra-index-url =\n    https://pypi.org/simple/\n    https://u:{PLAIN}@pypi.example.com/simple/\n",
        [(5, "password in URL")]),
    ".pypirc": (
        "[distutils]\nindex-servers =\n    corp\n\n[corp]\nrepository = https://pypi.example.com/\n"
        f"username = deploy\npassword = {HOSTILE}\n",
        [(8, "password in [corp]")]),
    "setup.cfg": (
        "[metadata]\nname = demo\n\n[options]\ninstall_requires =\n    requests\n"
        f"    corp @ git+https://oauth2:{GITLAB_PAT}@gitlab.example.com/g/corp.git\n",
        [(7, "password in URL")]),
    "setup.py": (
        "from setuptools import setup\n\nsetup(\n    name='demo',\n"
        f"    install_requires=['x @ git+https://{GITHUB_PAT}@github.com/o/x.git'],\n)\n",
        [(5, "token as the URL's user name")]),
    "pyproject.toml": (
        '[project]\nname = "demo"\n\n[[tool.uv.index]]\nname = "corp"\n'
        f'url = "https://__token__:{PLAIN}@pypi.example.com/simple/"\n\n'
        '[[tool.pdm.source]]\nname = "pdm"\nurl = "https://pdm.example.com/simple"\n'
        'username = "u"\npassword = "pdm-S3cret-77"\n',
        [(6, "password in URL"), (12, "password key")]),
    "Pipfile": (
        f'[[source]]\nurl = "https://u:{PLAIN}@pypi.example.com/simple"\nverify_ssl = true\n'
        'name = "corp"\n',
        [(2, "password in URL")]),
    "tox.ini": (
        "[tox]\nenvlist = py3\n\n[testenv]\nsetenv =\n"
        f"    PIP_EXTRA_INDEX_URL = https://__token__:{PLAIN}@pypi.example.com/simple/\n",
        [(6, "password in URL")]),
    "Dockerfile": (
        "FROM python:3.12\nARG PIP_TOKEN=dockerTok-998877\n"
        f"ENV GL_TOKEN={GITLAB_PAT}\n"
        f"RUN pip install --index-url https://__token__:{quote(HOSTILE, safe='')}@{GL} corp\n",
        [(3, "GitLab personal access token"), (4, "password in URL")]),
    "Containerfile": (
        f"FROM python\nRUN pip install -i https://u:{PLAIN}@pypi.example.com/simple/ x\n",
        [(2, "password in URL")]),
    ".gitlab-ci.yml": (
        "test:\n  script:\n"
        f"    - pip install --index-url https://__token__:{GITLAB_PAT}@{GL} corp\n",
        [(3, "password in URL")]),
    ".github/workflows/ci.yml": (
        "on: push\njobs:\n  t:\n    steps:\n      - run: pip install x\n        env:\n"
        f"          PIP_INDEX_URL: https://__token__:{PLAIN}@pypi.example.com/simple/\n",
        [(7, "password in URL")]),
    ".env": (
        f"# local\nTWINE_PASSWORD={PYPI_TOKEN}\n",
        [(2, "PyPI API token")]),
    ".netrc": (
        'machine pypi.example.com\n  login deploy\n  password "' + HOSTILE.replace("\\", "\\\\").replace('"', '\\"') + '"\n',
        [(3, "password in a netrc")]),
}

# Look-alikes that hold no secret: nothing may be reported for them.
CLEAN = {
    "clean/requirements.txt": (
        "--index-url https://someone@pypi.example.com/simple/\n"
        "--extra-index-url https://__token__:${CORP_TOKEN}@pypi.example.com/simple/\n"
        "--extra-index-url https://__token__:<your_token>@pypi.example.com/simple/\n"
        "--extra-index-url https://user:****@pypi.example.com/simple/\n"
        "dep @ git+https://git@github.com/o/dep.git\n"
        "dep2 @ git+https://gitlab-ci-token:$CI_JOB_TOKEN@gitlab.example.com/o/dep2.git\n"),
    "clean/.pypirc": "[pypi]\nusername = __token__\npassword = ${PYPI_TOKEN}\n",
    "clean/pip.conf": "[global]\nindex-url = https://pypi.example.com/simple/\n",
    "clean/Dockerfile": "FROM python\nARG GL_TOKEN\nRUN pip install --index-url "
                        "https://__token__:${GL_TOKEN}@gitlab.example.com/simple x\n",
    "clean/setup.cfg": "[options]\ninstall_requires = x @ git+https://YOUR_TOKEN@github.com/o/x\n",
}


def git(repo: Path, *args: str) -> str:
    return _git(*args, cwd=repo)


def write_files(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)


@pytest.fixture
def leaky_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write_files(repo, {name: text for name, (text, _) in LEAKY.items()})
    write_files(repo, CLEAN)
    write_files(repo, {".gitignore": "ignored/\n",
                       "ignored/requirements.txt": f"-i https://u:{PLAIN}@h.example.com/simple/\n",
                       "README.md": f"https://u:{PLAIN}@h.example.com/simple/ (not a scanned kind)\n"})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "leaky")
    return repo


def expected_lines() -> list[tuple[str, int, str]]:
    return sorted((name, line, kind) for name, (_, found) in LEAKY.items() for line, kind in found)


def assert_no_secret(output: str) -> None:
    for secret in SECRETS:
        for form in {secret, quote(secret, safe=""), secret[5:]}:
            assert form not in output, f"secret form {form[:3]}... leaked"


def test_finds_every_kind_at_the_right_line(leaky_repo: Path) -> None:
    found = scan.scan_project([], leaky_repo, os.environ)
    leaks = [(f.path, f.line, f.kind) for f in found if f.level == scan.LEAK]
    got = sorted(leaks)
    want = expected_lines()
    assert [(p, n) for p, n, _ in got] == [(p, n) for p, n, _ in want]
    for (_, _, kind), (_, _, fragment) in zip(got, want):
        assert fragment in kind


def test_cli_output_is_sorted_lines_without_secrets(leaky_repo: Path) -> None:
    result = privpip("scan", cwd=leaky_repo / "requirements")  # from a subdirectory: repo root
    assert result.returncode == 1, result.stderr
    assert_no_secret(result.stdout + result.stderr)
    lines = result.stdout.splitlines()
    assert [(line.split(":")[0], int(line.split(":")[1])) for line in lines] == \
        [(p, n) for p, n, _ in expected_lines()]
    assert ("requirements.txt:2: password in URL (https://__token__:****@" + GL + ", gitlab)"
            in lines)
    assert ".gitlab-ci.yml:3: password in URL: a GitLab personal access token " \
           "(https://__token__:glpa…@" + GL + ", gitlab)" in lines
    assert "ignored/" not in result.stdout and "README" not in result.stdout
    assert "clean/" not in result.stdout


def test_verbose_lists_references_as_take_over_candidates(leaky_repo: Path) -> None:
    result = privpip("scan", "-v", "clean", cwd=leaky_repo)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "clean/requirements.txt:2: password from a variable ${CORP_TOKEN} in URL " \
           "(https://__token__:${CORP_TOKEN}@pypi.example.com/simple/, pypi.example.com) " \
           "[privpip can take it over: token-env]" in lines
    assert any(line.startswith("clean/.pypirc:3: ") for line in lines)
    assert any(line.startswith("clean/Dockerfile:3: ") for line in lines)
    assert privpip("scan", "clean", cwd=leaky_repo).stdout == ""


def test_json_output(leaky_repo: Path) -> None:
    result = privpip("scan", "--json", "requirements.txt", cwd=leaky_repo)
    assert result.returncode == 1
    assert_no_secret(result.stdout + result.stderr)
    data = json.loads(result.stdout)
    # The file named, and the -r file it includes.
    assert [(d["path"], d["line"], d["provider"]) for d in data] == [
        ("requirements.txt", 2, "gitlab"), ("requirements/dev.in", 1, "github")]
    assert data[0]["url"] == "https://" + GL
    assert data[0]["username"] == "__token__"


def test_exit_codes(leaky_repo: Path, tmp_path: Path) -> None:
    assert privpip("scan", "clean/pip.conf", cwd=leaky_repo).returncode == 0
    missing = privpip("scan", "no-such-file.txt", cwd=leaky_repo)
    assert missing.returncode == 2
    assert "no such file" in missing.stderr and "Traceback" not in missing.stderr
    assert privpip("scan", "--bogus", cwd=leaky_repo).returncode == 2
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "requirements.txt").write_text(f"-i https://u:{PLAIN}@h.example.com/simple/\n")
    outside = privpip("scan", cwd=plain)  # not a git repository: the current directory
    assert outside.returncode == 1 and outside.stdout.startswith("requirements.txt:1: ")


def test_a_given_file_is_scanned_whatever_its_name(leaky_repo: Path) -> None:
    (leaky_repo / "notes.cfg").write_text(f"url = https://u:{PLAIN}@h.example.com/simple/\n")
    result = privpip("scan", "notes.cfg", cwd=leaky_repo)
    assert result.returncode == 1 and result.stdout.startswith("notes.cfg:1: password in URL")


def test_user_files_and_environment(isolated: Path, tmp_path: Path) -> None:
    pip_conf = isolated / ".config" / "pip" / "pip.conf"
    pip_conf.parent.mkdir(parents=True)
    pip_conf.write_text(f"[global]\nindex-url = https://u:{PLAIN}@h.example.com/simple/\n")
    (isolated / ".pypirc").write_text(f"[pypi]\nusername = __token__\npassword = {PYPI_TOKEN}\n")
    auth = isolated / ".config" / "pypoetry" / "auth.toml"
    auth.parent.mkdir(parents=True)
    auth.write_text(f'[http-basic.corp]\nusername = "u"\npassword = "{PLAIN}"\n')
    extra = tmp_path / "extra.conf"
    extra.write_text(f"[global]\nextra-index-url = https://v:{PLAIN}@x.example.com/simple/\n")
    venv = tmp_path / "venv"  # the active environment's site file (pipconfig's "site")
    venv.mkdir()
    (venv / "pip.conf").write_text(f"[install]\nindex-url = https://s:{PLAIN}@z.example.com/\n")
    result = privpip("scan", "--user", env={
        "VIRTUAL_ENV": str(venv),
        "PIP_CONFIG_FILE": str(extra),
        "PIP_EXTRA_INDEX_URL": f"https://w:{PLAIN}@y.example.com/simple/"})
    assert result.returncode == 1, result.stderr
    assert_no_secret(result.stdout + result.stderr)
    out = result.stdout.splitlines()
    assert f"{pip_conf}:2: password in URL (https://u:****@h.example.com/simple/, " \
           "h.example.com)" in out
    assert any(line.startswith(f"{isolated / '.pypirc'}:3: password in [pypi]") for line in out)
    assert any(line.startswith(f"{auth}:3: password key") for line in out)
    assert any(line.startswith(f"{extra}:2: ") for line in out)
    assert any(line.startswith(f"{venv / 'pip.conf'}:2: password in URL") for line in out)
    assert "$PIP_EXTRA_INDEX_URL: password in URL (https://w:****@y.example.com/simple/, " \
           "y.example.com)" in out
    assert privpip("scan", "--user", "x").returncode == 2


@pytest.mark.parametrize("value", ["<your_token>", "TOKEN", "xxxxxxxx", "****", "your-token",
                                   "${TOKEN}", "$TOKEN", "%(token)s"])
def test_placeholders_and_references_are_not_leaks(value: str) -> None:
    found = scan.scan_text(f"--index-url https://u:{value}@h.example.com/simple/\n", "r.txt")
    assert [f for f in found if f.level == scan.LEAK] == []


def test_line_numbers_ignore_form_feeds_and_keep_crlf() -> None:
    text = f"a\x0cb\r\n\x1c\r\n-i https://u:{PLAIN}@h.example.com/\r\n"
    (finding,) = scan.scan_text(text, "r.txt")
    assert finding.line == 3 and finding.secret is not None
    assert finding.secret.reveal() == PLAIN and PLAIN not in repr(finding)


# ---------------------------------------------------------------------------
# the pre-commit hook


HOOKS_FILE = Path(__file__).resolve().parents[2] / ".pre-commit-hooks.yaml"


def published_hook() -> dict:
    import yaml

    (hook,) = yaml.safe_load(HOOKS_FILE.read_text())
    return hook


def test_published_hook_definition() -> None:
    import re

    hook = published_hook()
    assert hook["id"] == "privpip-scan" and hook["entry"] == "privpip scan"
    assert hook["language"] == "python" and hook["files"] == scan.FILES_REGEX
    names = [name for name in LEAKY] + ["a/b/Dockerfile.prod", ".gitlab-ci-extra.yml",
                                        ".env.local", "docs/x.md", "README.md", "src/a.py",
                                        ".github/workflows/sub/x.yml", "x.yaml", "pip.conf"]
    for name in names:
        assert bool(re.search(hook["files"], name)) == bool(scan.file_kind(name)), name


def test_a_jwt_is_found_not_a_crash(tmp_path: Path) -> None:
    """A JWT matches the token pattern's own group (tokens.prefix): once an internal error."""
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijklmnop"
    (tmp_path / "settings.txt").write_text(f"TOKEN={jwt}\n")
    result = privpip("scan", "settings.txt", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "a JSON Web Token (JWT)" in result.stdout and jwt not in result.stdout


@pytest.mark.parametrize(("path", "role"), [
    ("Dockerfile", "docker"), ("docker/Dockerfile.prod", "docker"), ("app.dockerfile", "docker"),
    ("Containerfile", "docker"), (".env", "env"), ("deploy/.env.prod", "env"),
    (".gitlab-ci.yml", "ci"), ("ci/.gitlab-ci-deploy.yaml", "ci"), (".gitlab/ci/build.yml", "ci"),
    (".github/workflows/test.yml", "ci"), ("workflows/test.yml", None), ("env.txt", None),
    ("requirements.txt", None), (".github/test.yml", None),
])
def test_ci_docker_and_env_files_are_recognised_once(path: str, role: str | None) -> None:
    """scan reads them as text and migrate writes variable references into them: one rule."""
    assert scan.file_role(path) == role
    if role is not None:
        assert scan.file_kind(path) == "text"


def test_included_requirement_files_are_found_as_pip_reads_the_lines(tmp_path: Path) -> None:
    """-rFILE, --requirement=FILE, a continued line and -c are followed (pipargs' reading);
    a -r inside a comment is not."""
    files = {"top.txt": "-rone.txt\n--requirement=two.txt\n-c \\\n  three.txt\n# -r four.txt\n",
             "one.txt": f"--extra-index-url https://u:{PLAIN}@one.example.com/simple/\n",
             "two.txt": f"-i https://u:{PLAIN}@two.example.com/simple/\n",
             "three.txt": f"--extra-index-url https://u:{PLAIN}@three.example.com/simple/\n",
             "four.txt": f"-i https://u:{PLAIN}@four.example.com/simple/\n"}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    found = scan.scan_files([tmp_path / "top.txt"], tmp_path)
    assert sorted(f.path for f in found if f.level == scan.LEAK) == [
        "one.txt", "three.txt", "two.txt"]
