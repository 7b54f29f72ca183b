"""Dependency confusion: a squatter on a "public" loopback index, plain pip vs privpip."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from privpip.checks import confusion
from privpip.config import Index
from privpip.core import pipargs
from tests import packaging_fixtures
from tests.helpers import (
    PLAIN_TOKEN,
    installed,
    privpip,
    start_pypiserver,
    venv_python,
    write_config,
)

TOKEN_ENV = {"PRIVPIP_INDEX_CORP_TOKEN": PLAIN_TOKEN}
# The install-time check below is the netrc delivery's: pip asks every index itself there.
# The local delivery (default) routes an owned name to its owner instead (tests at the end).
NETRC = ("--delivery", "netrc")


@pytest.fixture(scope="module")
def public_server(tmp_path_factory):
    """An unauthenticated pypiserver standing in for PyPI, with a squatted corp-dep 99.0."""
    base = tmp_path_factory.mktemp("public")
    packages = base / "packages"
    packages.mkdir()
    packaging_fixtures.write_wheel(packages, "corp-dep", "99.0", {
        "corp_dep/__init__.py": "VALUE = 'squatter 99.0'\n"})
    packaging_fixtures.write_wheel(packages, "public-lib", "2.0", {
        "public_lib/__init__.py": "VALUE = 'public-lib 2.0'\n"})
    process, root = start_pypiserver(packages, None, ".", base / "server.log")
    yield f"{root}/simple/"
    process.terminate()
    process.wait(10)


def config_text(index_server, public, default, packages='["corp-*"]'):
    return (f'public-index = "{public}"\n\n'
            + index_server.config(default=default, extra=f"packages = {packages}\n"))


def test_plain_pip_with_extra_index_installs_the_squatter(index_server, public_server,
                                                          make_venv):
    """The attack itself: pip takes the highest version across --index-url and extras."""
    venv = make_venv()
    private = index_server.url.replace("http://", f"http://__token__:{PLAIN_TOKEN}@")
    result = subprocess.run(
        [venv_python(venv), "-m", "pip", "install", "--index-url", private,
         "--extra-index-url", public_server, "corp-dep"],
        capture_output=True, text=True,
        env={**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INPUT": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert installed(venv, "corp_dep") == "squatter 99.0"


def test_privpip_refuses_with_extra_index_on_command_line(index_server, public_server,
                                                          make_venv, tmp_path):
    write_config(tmp_path, config_text(index_server, public_server, default=True))
    venv = make_venv()
    result = privpip("install", *NETRC, "--python", venv_python(venv), "--extra-index-url",
                     public_server, "corp-dep", cwd=tmp_path, env=TOKEN_ENV)
    assert result.returncode == 1, result.stderr
    assert "refusing to install" in result.stderr
    assert "corp-dep (command line): owned by index 'corp'" in result.stderr
    assert "versions: 99.0" in result.stderr
    assert "--allow-public corp-dep" in result.stderr
    assert "Traceback" not in result.stderr
    assert installed(venv, "corp_dep").startswith("<not importable")


def test_privpip_refuses_without_default_index_from_requirements_file(
        index_server, public_server, make_venv, tmp_path):
    """No default index: pip's default (here PIP_INDEX_URL = the public loopback) is searched."""
    write_config(tmp_path, config_text(index_server, public_server, default=False))
    (tmp_path / "more.txt").write_text("Corp_Dep>=1.0 --hash=sha256:00\n")
    (tmp_path / "requirements.txt").write_text(
        "# deps\npublic-lib  # a comment\n-r more.txt\n")
    venv = make_venv()
    result = privpip("install", *NETRC, "--python", venv_python(venv), "-r", "requirements.txt",
                     cwd=tmp_path, env={**TOKEN_ENV, "PIP_INDEX_URL": public_server})
    assert result.returncode == 1, result.stderr
    assert "corp-dep (more.txt): owned by index 'corp'" in result.stderr
    assert "no default index is configured" in result.stderr
    assert installed(venv, "public_lib").startswith("<not importable")


def test_allow_public_overrides(index_server, public_server, make_venv, tmp_path):
    write_config(tmp_path, config_text(index_server, public_server, default=True))
    venv = make_venv()
    result = privpip("install", *NETRC, "--allow-public", "corp_dep", "--python",
                     venv_python(venv),
                     "--extra-index-url", public_server, "corp-dep", cwd=tmp_path, env=TOKEN_ENV)
    assert result.returncode == 0, result.stderr
    assert installed(venv, "corp_dep") == "squatter 99.0"


def test_single_default_index_installs_the_private_package(index_server, public_server,
                                                           make_venv, tmp_path):
    """With only the private default index in play, the public name does not matter."""
    write_config(tmp_path, config_text(index_server, public_server, default=True))
    venv = make_venv()
    result = privpip("-v", "install", *NETRC, "--python", venv_python(venv), "corp-dep",
                     cwd=tmp_path, env=TOKEN_ENV)
    assert result.returncode == 0, result.stderr
    assert "only private indexes are in play" in result.stderr
    assert installed(venv, "corp_dep") == "corp-dep 1.0"


def test_owned_name_absent_publicly_is_installed(index_server, public_server, make_venv,
                                                 tmp_path):
    write_config(tmp_path, config_text(index_server, public_server, default=True))
    venv = make_venv()
    result = privpip("-v", "install", *NETRC, "--python", venv_python(venv),
                     "--extra-index-url", public_server, "corp-build-helper", cwd=tmp_path,
                     env=TOKEN_ENV)
    assert result.returncode == 0, result.stderr
    assert "corp-build-helper is not on" in result.stderr


def test_pip_install_subcommand_is_checked_too(index_server, public_server, tmp_path):
    write_config(tmp_path, config_text(index_server, public_server, default=True))
    result = privpip("pip", *NETRC, "-q", "install", "--extra-index-url", public_server,
                     "corp-dep", cwd=tmp_path, env=TOKEN_ENV)
    assert result.returncode == 1
    assert "refusing to install" in result.stderr


def test_unreachable_public_index_fails_closed(index_server, tmp_path):
    from tests.helpers import free_port

    dead = f"http://127.0.0.1:{free_port()}/simple/"
    write_config(tmp_path, config_text(index_server, dead, default=True))
    result = privpip("install", *NETRC, "--extra-index-url", dead, "corp-dep", cwd=tmp_path,
                     env=TOKEN_ENV)
    assert result.returncode == 1
    assert "cannot check whether corp-dep" in result.stderr
    assert "Traceback" not in result.stderr


def test_audit_reports_the_squatter(index_server, public_server, tmp_path):
    write_config(tmp_path, config_text(index_server, public_server, default=True))
    result = privpip("audit", cwd=tmp_path, env=TOKEN_ENV)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"public index: {public_server}"
    assert lines[1] == f"corp ({index_server.url}):"
    assert lines[2:5] == [
        "  safe    corp-app           not on the public index",
        "  safe    corp-build-helper  not on the public index",
        "  danger  corp-dep           on the public index: 99.0",
    ]
    assert PLAIN_TOKEN not in result.stdout + result.stderr


def test_audit_safe_exits_zero(index_server, public_server, tmp_path):
    write_config(tmp_path, config_text(index_server, public_server, default=True,
                                       packages='["corp-app", "corp-build-helper"]'))
    result = privpip("audit", cwd=tmp_path, env=TOKEN_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "danger" not in result.stdout
    assert "  note    corp-dep           listed, but not in `packages`; not checked" \
        in result.stdout


# ---------------------------------------------------------------------------
# units: what privpip reads from a pip command line


def test_requested_names_skip_options_paths_and_urls(tmp_path: Path):
    (tmp_path / "local").mkdir()
    req = pipargs.walk(
        ["install", "-U", "--target", "corp-x", "Corp.Lib[extra]>=1; python_version>'3'", "./local",
         "local", "pkg @ https://example.com/p.whl", "dist/a-1.0-py3-none-any.whl",
         "-e", "git+https://example.com/x.git#egg=corp-y", "-ccons.txt", "--no-deps",
         "--extra-index-url=https://mirror.example/simple/", "-iHTTPS://idx.example/simple",
         "corp-z"], tmp_path)
    assert list(req.names()) == ["corp-lib", "corp-z"]
    assert req.extra_index_urls == ["https://mirror.example/simple/"]
    assert req.index_url == "HTTPS://idx.example/simple"


def test_requirement_files_nested_continuations_and_cycles(tmp_path: Path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text(
        "corp-a \\\n  ==1.0\n-r sub/b.txt\n--index-url https://x.example/simple\n")
    (tmp_path / "sub" / "b.txt").write_text("-r ../a.txt\ncorp_b #c\n#corp-c\n")
    req = pipargs.walk(["install", "-r", "a.txt"], tmp_path)
    assert req.names() == {"corp-a": "a.txt", "corp-b": "sub/b.txt"}
    assert req.index_url == "https://x.example/simple"


def _index(name: str, url: str, default: bool = False,
           packages: tuple[str, ...] = ()) -> Index:
    return Index(name=name, url=url, default=default, packages=packages)


def test_public_in_play_rules():
    corp = _index("corp", "https://corp.example/simple/", default=True, packages=("corp-*",))
    extra = _index("extra", "https://other.example/simple/")
    public = "https://pypi.org/simple/"
    none = pipargs.walk(["install", "corp-lib"], Path())
    assert confusion.public_in_play([corp], [corp], public, none) is None
    assert confusion.public_in_play([corp, extra], [corp, extra], public, none) is None
    assert "no default index" in str(confusion.public_in_play([extra], [corp, extra], public,
                                                               none))
    req = pipargs.walk(["install", "--extra-index-url", "https://pypi.org/simple"], Path())
    assert "--extra-index-url" in str(confusion.public_in_play([corp], [corp], public, req))
    # the routing's reading of pip's options: an abbreviation pip accepts counts too
    req = pipargs.walk(["install", "--extra", "https://pypi.org/simple"], Path())
    assert "--extra-index-url" in str(confusion.public_in_play([corp], [corp], public, req))
    req = pipargs.walk(["install", "--extra-index-url", "https://pypi.org/simple", "--no-index"],
                       Path())
    assert confusion.public_in_play([corp], [corp], public, req) is None
    pypi = _index("pypi", "https://pypi.org/simple/")
    assert "is the public index" in str(confusion.public_in_play([corp, pypi], [corp, pypi],
                                                                 public, none))
    assert confusion.owner([corp], "corp-lib") is corp
    assert confusion.owner([corp], "corporate") is None


def test_versions_and_project_lists_from_pep691_json_and_html():
    """The confusion check and audit read pages with the local index's reader (pages.py)."""
    from privpip.localindex import pages

    def versions(body: bytes, content_type: str) -> list[str]:
        return pages.offered_versions(pages.parse(body, content_type, "https://h.example/x/"))

    body = (b'{"meta": {"api-version": "1.1"}, "name": "x", "versions": ["1.0", "10.0", "2.0"],'
            b' "files": [{"filename": "x-3.0.tar.gz", "url": "x-3.0.tar.gz", "hashes": {}}]}')
    assert versions(body, "application/vnd.pypi.simple.v1+json") == ["1.0", "2.0", "3.0", "10.0"]
    html = (b'<a href="x-1.0.tar.gz#sha256=0">x-1.0.tar.gz</a>'
            b'<a href="x-3.0-py3-none-any.whl">x-3.0-py3-none-any.whl</a>'
            b'<a href="x-latest.tar.gz">not a version</a>')
    assert versions(html, "text/html") == ["1.0", "3.0"]
    assert pages.parse_project_list(
        b'{"meta": {"api-version": "1.0"}, "projects": [{"name": "Corp_Lib"}, {"name": "b"}]}',
        "application/vnd.pypi.simple.v1+json") == ["Corp_Lib", "b"]
    assert pages.parse_project_list(b'<a href="/simple/corp-lib/">Corp_Lib</a>\n'
                                    b'<a href="/simple/b/"> b </a>', "text/html") == ["Corp_Lib", "b"]
    with pytest.raises(pages.PageError):  # not a page: an error, not "no versions"
        versions(b'{"versions": ["1.0"]}', "application/vnd.pypi.simple.v1+json")
    with pytest.raises(pages.PageError):
        pages.parse_project_list(b'{"meta": {"api-version": "2.0"}, "projects": []}',
                                 "application/vnd.pypi.simple.v1+json")



def test_refusal_message_in_full(index_server, public_server, tmp_path):
    write_config(tmp_path, config_text(index_server, public_server, default=True))
    result = privpip("install", *NETRC, "--extra-index-url", public_server, "corp-dep",
                     "public-lib", cwd=tmp_path, env=TOKEN_ENV)
    assert result.returncode == 1
    assert result.stderr == (
        "privpip: error: refusing to install: a public index is in play and holds names that "
        "a private index owns; pip would take the highest version from either "
        f"(--extra-index-url {public_server} is not a configured private index):\n"
        f"  - corp-dep (command line): owned by index 'corp', but {public_server} has it too "
        "(versions: 99.0)\n"
        "nothing was installed\n"
        "  hint: make the private index the default (default = true; if it proxies PyPI, that "
        "is all you need) instead of an extra index; or, if the public project is really "
        "yours, pass --allow-public corp-dep; `privpip audit` lists every such name\n"
    )


def test_audit_bad_public_index_option(index_server, tmp_path):
    write_config(tmp_path, index_server.config())
    result = privpip("audit", "--public-index", "ftp://example.com/", cwd=tmp_path)
    assert result.returncode == 2
    assert "privpip: error: --public-index: must be an http(s) URL" in result.stderr


@pytest.mark.parametrize("how", ["extra-index-url", "no-default-index"])
def test_local_delivery_takes_an_owned_name_only_from_its_owner(index_server, public_server,
                                                                make_venv, tmp_path, how):
    """Default delivery: the squatter's 99.0 is never offered to pip; public names still come."""
    write_config(tmp_path, config_text(index_server, public_server,
                                       default=how == "extra-index-url"))
    venv = make_venv()
    args: tuple[str, ...] = ("--extra-index-url", public_server)
    env = dict(TOKEN_ENV)
    if how == "no-default-index":
        args, env["PIP_INDEX_URL"] = (), public_server
    result = privpip("install", "--python", venv_python(venv), *args, "corp-dep", "public-lib",
                     cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert installed(venv, "corp_dep") == "corp-dep 1.0"
    assert installed(venv, "public_lib") == "public-lib 2.0"
