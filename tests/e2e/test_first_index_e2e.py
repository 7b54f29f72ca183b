"""End to end: private first without `packages` (uv's first-index), through the real CLI.

The path a new user takes: `privpip init`, `privpip index add corp URL`, a token, install.
A second index without authentication stands in for PyPI (pip's own index-url, here
PIP_INDEX_URL) and holds a squatted corp-core 99.0."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import packaging_fixtures
from tests.helpers import TESTS, free_port, installed, privpip, venv_python, write_htpasswd

CORP_USER, CORP_TOKEN = "corp-deployer", "corp-Token_" + "f1rst1dx9z"
ENV = {"PRIVPIP_INDEX_CORP_TOKEN": CORP_TOKEN, "UV_NO_CACHE": "1"}


def _wheel(directory: Path, name: str, version: str, requires: list[str] | None = None) -> None:
    module = name.replace("-", "_")
    packaging_fixtures.write_wheel(
        directory, name, version, {f"{module}/__init__.py": f"VALUE = {name + ' ' + version!r}\n"},
        requires=requires)


class Servers:
    def __init__(self, root: str) -> None:
        self.root = root

    def url(self, name: str) -> str:
        return f"{self.root}/{name}/simple/"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    base = tmp_path_factory.mktemp("first-index")
    corp, pub, other = base / "corp", base / "pub", base / "other"
    for d in (corp, pub, other):
        d.mkdir()
    _wheel(corp, "corp-core", "1.0")
    _wheel(corp, "corp-app", "2.0", requires=["corp-core"])
    _wheel(pub, "corp-core", "99.0")  # the squatter, on the index standing in for PyPI
    _wheel(pub, "pub-pkg", "1.0")  # (also a real PyPI name: the stand-in must be asked)
    _wheel(pub, "uses-core", "1.0", requires=["corp-core"])  # a public package needing it
    _wheel(other, "other-pkg", "1.0")  # an open index a requirements file names (PyTorch's)
    _wheel(other, "corp-core", "50.0")  # ... which also has a squatted copy
    port = free_port()
    htpasswd = write_htpasswd(base / "corp.htpasswd", {CORP_USER: CORP_TOKEN})
    process = subprocess.Popen(
        [sys.executable, str(TESTS / "multi_pypiserver.py"), str(port), f"corp={corp}:{htpasswd}",
         f"pub={pub}:", f"other={other}:"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    root = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(root + "/pub/simple/", timeout=2)  # noqa: S310 - loopback
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.1)
    try:
        yield Servers(root)
    finally:
        process.terminate()
        process.wait(10)


def setup_project(tmp_path: Path, servers: Servers, *add: str) -> None:
    """Only what privpip's own path leads to: init, index add (no packages)."""
    for args in (("init",), ("index", "add", "corp", servers.url("corp"), "--username",
                              CORP_USER, *add)):
        result = privpip(*args, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    assert "packages" not in "".join(line for line in (tmp_path / "privpip.toml").read_text()
                                     .splitlines(keepends=True) if not line.startswith("#"))


def stand_in(servers: Servers) -> dict[str, str]:
    """The index standing in for PyPI, as pip and uv are told of it (never the real one)."""
    return {"PIP_INDEX_URL": servers.url("pub"), "UV_DEFAULT_INDEX": servers.url("pub")}


def install(tmp_path: Path, venv: Path, servers: Servers, *args: str,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = privpip("--no-input", "install", "--python", venv_python(venv), *args, cwd=tmp_path,
                     env={**ENV, **stand_in(servers), **(env or {})})
    assert "Traceback" not in result.stderr, result.stderr
    assert CORP_TOKEN not in result.stdout + result.stderr
    return result


@pytest.mark.parametrize("installer", ["pip", "uv"])
@pytest.mark.parametrize(("request_name", "top"), [
    ("corp-core", None),  # direct
    ("corp-app", "corp_app"),  # a private package's dependency
    ("uses-core", "uses_core"),  # a public package's dependency
])
def test_squatted_name_never_comes_from_a_later_index_without_packages(
        servers, make_venv, tmp_path, installer, request_name, top):
    setup_project(tmp_path, servers)
    venv = make_venv()
    result = install(tmp_path, venv, servers, "--installer", installer, request_name, "pub-pkg")
    assert result.returncode == 0, result.stderr
    assert installed(venv, "corp_core") == "corp-core 1.0"
    assert installed(venv, "pub_pkg") == "pub-pkg 1.0"  # public names still come from PyPI
    if top is not None:
        assert installed(venv, top).startswith(request_name)


def test_unsafe_best_match_is_the_documented_opt_in(servers, make_venv, tmp_path):
    setup_project(tmp_path, servers)
    config = tmp_path / "privpip.toml"
    config.write_text('index-strategy = "unsafe-best-match"\n' + config.read_text())
    # Edited by hand: trusted again (until then the exported token and the setting wait).
    assert privpip("trust", cwd=tmp_path).returncode == 0
    venv = make_venv()
    result = install(tmp_path, venv, servers, "corp-core")
    assert result.returncode == 0, result.stderr
    assert installed(venv, "corp_core") == "corp-core 99.0"  # pip's merge: the highest wins


def test_an_unreachable_index_withholds_names_it_might_hold_and_says_how_to_go_on(
        servers, make_venv, tmp_path):
    """Off the VPN: the private index cannot be asked, so a name found on a later index is
    withheld (the private one might hold its own copy); the message names the index, the
    name and two ways forward; --skip-index is one of them and works."""
    dead = f"http://127.0.0.1:{free_port()}/simple/"
    (tmp_path / "privpip.toml").write_text(
        f'[[index]]\nname = "vpn"\nurl = "{dead}"\nauth = false\n')
    venv = make_venv()
    result = install(tmp_path, venv, servers, "pub-pkg")
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last == (
        "privpip: index 'vpn' could not be asked for 'pub-pkg', so its page was withheld "
        "although 'index-url' has it: it comes first, and private first means its own "
        "'pub-pkg' would win; if it does not hold 'pub-pkg', declare the packages it does hold "
        "(packages = [...] in its [[index]] table) so that other names skip it; or leave it out "
        "of this run: --skip-index vpn")
    assert "add 'pub-pkg' to the packages" not in result.stderr
    skipped = install(tmp_path, venv, servers, "--skip-index", "vpn", "pub-pkg")
    assert skipped.returncode == 0, skipped.stderr
    assert installed(venv, "pub_pkg") == "pub-pkg 1.0"


def test_an_unreachable_index_that_declares_packages_blocks_only_its_own_names(
        servers, make_venv, tmp_path):
    dead = f"http://127.0.0.1:{free_port()}/simple/"
    (tmp_path / "privpip.toml").write_text(
        f'[[index]]\nname = "vpn"\nurl = "{dead}"\nauth = false\npackages = ["vpn-*"]\n')
    venv = make_venv()
    result = install(tmp_path, venv, servers, "pub-pkg")
    assert result.returncode == 0, result.stderr
    assert installed(venv, "pub_pkg") == "pub-pkg 1.0"
    owned = install(tmp_path, venv, servers, "vpn-lib")
    assert owned.returncode != 0
    assert "privpip: index 'vpn'" in owned.stderr and "cannot be reached" in owned.stderr
    refused = install(tmp_path, venv, servers, "--skip-index", "vpn", "vpn-lib")
    assert refused.returncode == 2
    assert "--skip-index vpn: index 'vpn' declares packages" in refused.stderr


def test_requirements_file_naming_indexes_installs_through_the_routing(
        servers, make_venv, tmp_path):
    """An --extra-index-url line (an open index, like PyTorch's), a relative --find-links
    directory and a nested -r: taken over, not refused; the private name still comes from
    its private index."""
    setup_project(tmp_path, servers)
    (tmp_path / "reqs" / "wheels").mkdir(parents=True)
    _wheel(tmp_path / "reqs" / "wheels", "wh-pkg", "1.0")
    (tmp_path / "reqs" / "requirements.txt").write_text(
        f"# from the project\n--extra-index-url {servers.url('other')}\n--find-links wheels\n"
        "other-pkg\nwh-pkg\n-r nested.txt\n")
    (tmp_path / "reqs" / "nested.txt").write_text("corp-core\n")
    for installer in ("pip", "uv"):
        venv = make_venv()
        result = install(tmp_path, venv, servers, "--installer", installer,
                         "-r", "reqs/requirements.txt")
        assert result.returncode == 0, result.stderr
        assert installed(venv, "other_pkg") == "other-pkg 1.0"
        assert installed(venv, "wh_pkg") == "wh-pkg 1.0"
        assert installed(venv, "corp_core") == "corp-core 1.0"
        assert servers.url("other") not in result.stdout  # pip saw only the local index


def _file_index(tmp_path: Path) -> str:
    """A PEP 503 tree on disk holding file-pkg 1.0 (an air-gapped mirror); its file:// URL."""
    tree = tmp_path / "mirror" / "simple" / "file-pkg"
    tree.mkdir(parents=True)
    _wheel(tree, "file-pkg", "1.0")
    wheel = next(tree.glob("*.whl")).name
    (tree / "index.html").write_text(f'<a href="{wheel}">{wheel}</a>\n')
    return (tmp_path / "mirror" / "simple").as_uri() + "/"


def test_file_default_index_for_uv_passes_through(servers, make_venv, tmp_path):
    """uv told of a file:// default index (UV_DEFAULT_INDEX): uv reads it itself, and the
    private index still serves its own names."""
    setup_project(tmp_path, servers)
    venv = make_venv()
    result = install(tmp_path, venv, servers, "--installer", "uv", "file-pkg", "corp-core",
                     env={"UV_DEFAULT_INDEX": _file_index(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert installed(venv, "file_pkg") == "file-pkg 1.0"
    assert installed(venv, "corp_core") == "corp-core 1.0"


def test_file_index_and_find_links_in_pip_conf_pass_through(servers, make_venv, tmp_path):
    """This machine's kind of pip.conf: a file:// extra-index-url and a find-links
    directory, read by pip as they are (no refusal, no credential involved)."""
    setup_project(tmp_path, servers)
    mirror = _file_index(tmp_path)
    (tmp_path / "links").mkdir()
    _wheel(tmp_path / "links", "link-pkg", "1.0")
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nextra-index-url = {mirror}\nfind-links = {tmp_path / 'links'}\n")
    venv = make_venv()
    result = install(tmp_path, venv, servers, "file-pkg", "link-pkg", "corp-core",
                     env={"PIP_CONFIG_FILE": str(conf)})
    assert result.returncode == 0, result.stderr
    assert installed(venv, "file_pkg") == "file-pkg 1.0"
    assert installed(venv, "link_pkg") == "link-pkg 1.0"
    assert installed(venv, "corp_core") == "corp-core 1.0"
