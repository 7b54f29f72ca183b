"""End to end: the local index as privpip's default delivery, through the real CLI, with real
pip and uv against pypiserver indexes on ONE host and port (different users and tokens)."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import packaging_fixtures
from tests.helpers import (
    TESTS,
    free_port,
    installed,
    privpip,
    start_multi_pypiserver,
    start_pypiserver,
    stop_server,
    token_forms,
    venv_python,
    write_config,
    write_htpasswd,
)

CORP_USER, CORP_TOKEN = "corp-deployer", "corp-Token_" + "r0ut3a1b2c"
OTHER_USER, OTHER_TOKEN = "other-deployer", "other-Token_" + "r0ut3d4e5f"
EXT_USER, EXT_TOKEN = "ext-deployer", "ext-Token_" + "r0ut3g7h8i"
TOKENS = {"PRIVPIP_INDEX_CORP_TOKEN": CORP_TOKEN, "PRIVPIP_INDEX_OTHER_TOKEN": OTHER_TOKEN,
          "UV_NO_CACHE": "1"}

DUMP_BACKEND = '''
import os

def _dump():
    with open(os.environ["ROUTING_DUMP"], "a") as out:
        for key, value in sorted(os.environ.items()):
            out.write("%s=%s\\n" % (key, value))
        for path in (os.environ.get("NETRC"), os.path.expanduser("~/.netrc")):
            if path and os.path.exists(path):
                out.write("netrc %s:\\n%s\\n" % (path, open(path).read()))
    raise RuntimeError("dumper: this backend always fails")

def get_requires_for_build_wheel(config_settings=None):
    _dump()

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _dump()
'''


def _wheel(directory: Path, name: str, version: str, requires: list[str] | None = None) -> Path:
    module = name.replace("-", "_")
    return packaging_fixtures.write_wheel(
        directory, name, version, {f"{module}/__init__.py": f"VALUE = {name + ' ' + version!r}\n"},
        requires=requires)


class Indexes:
    def __init__(self, root: str, corp_wheel: Path) -> None:
        self.root = root
        self.corp_wheel = corp_wheel

    def url(self, name: str, user: str | None = None, token: str | None = None) -> str:
        auth = f"{user}:{token}@" if user else ""
        return f"http://{auth}{self.root.removeprefix('http://')}/{name}/simple/"

    def config(self, corp_token_env: str = "") -> str:
        """corp owns corp-* and a-pkg; other (the default, like a group repository that
        forwards to PyPI) also holds a squatted corp-dep 99.0."""
        return (f'[[index]]\nname = "corp"\nurl = "{self.url("corp")}"\n'
                f'username = "{CORP_USER}"\npackages = ["corp-*", "a-pkg"]\n{corp_token_env}\n'
                f'[[index]]\nname = "other"\nurl = "{self.url("other")}"\n'
                f'username = "{OTHER_USER}"\ndefault = true\n')


@pytest.fixture(scope="module")
def indexes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Indexes]:
    base = tmp_path_factory.mktemp("routing")
    corp, other, ext = base / "corp", base / "other", base / "ext"
    for d in (corp, other, ext):
        d.mkdir()
    corp_wheel = _wheel(corp, "corp-dep", "1.0")
    _wheel(corp, "corp-top", "1.0", requires=["corp-dep"])
    _wheel(corp, "a-pkg", "1.0")
    _wheel(other, "b-pkg", "1.0")
    _wheel(other, "corp-dep", "99.0")  # the squatter on the default index
    _wheel(other, "uses-corp", "1.0", requires=["corp-dep"])  # a public package needing it
    packaging_fixtures.write_sdist_files(other, "dumper", "1.0", {
        "pyproject.toml": ('[build-system]\nrequires = []\n'
                           'build-backend = "dump_backend"\nbackend-path = ["."]\n'),
        "dump_backend.py": DUMP_BACKEND,
    })
    _wheel(ext, "c-pkg", "1.0")
    _wheel(ext, "corp-dep", "50.0")  # a squatter on an index only pip.conf / -i names
    specs = [f"{name}={path}:{write_htpasswd(base / f'{name}.htpasswd', {user: token})}"
             for name, path, user, token in (("corp", corp, CORP_USER, CORP_TOKEN),
                                             ("other", other, OTHER_USER, OTHER_TOKEN),
                                             ("ext", ext, EXT_USER, EXT_TOKEN))]
    process, root = start_multi_pypiserver(specs)
    try:
        yield Indexes(root, corp_wheel)
    finally:
        stop_server(process)


def no_token_in(text: str) -> None:
    for user, token in ((CORP_USER, CORP_TOKEN), (OTHER_USER, OTHER_TOKEN),
                        (EXT_USER, EXT_TOKEN)):
        for form in token_forms(user, token):
            assert form not in text, f"a form of {user}'s token leaked"


def install(tmp_path: Path, venv: Path, *args: str, env: dict[str, str] | None = None,
            backend_fails: bool = False) -> subprocess.CompletedProcess[str]:
    result = privpip("--no-input", "install", "--python", venv_python(venv), *args,
                     cwd=tmp_path, env={**TOKENS, **(env or {})})
    no_token_in(result.stdout + result.stderr)
    # pip prints a failing build backend's traceback; privpip itself never prints one.
    assert backend_fails or "Traceback" not in result.stderr, result.stderr
    return result


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_two_indexes_one_host_different_tokens(indexes, make_venv, tmp_path, installer):
    write_config(tmp_path, indexes.config())
    venv = make_venv()
    result = install(tmp_path, venv, "--installer", installer, "a-pkg", "b-pkg")
    assert result.returncode == 0, result.stderr
    assert installed(venv, "a_pkg") == "a-pkg 1.0"
    assert installed(venv, "b_pkg") == "b-pkg 1.0"


@pytest.mark.parametrize("installer", ["pip", "uv"])
@pytest.mark.parametrize("request_name", ["corp-dep", "corp-top", "uses-corp"])
def test_squatted_owned_name_comes_from_its_owner(indexes, make_venv, tmp_path, installer,
                                                  request_name):
    """Directly and as a dependency (of a private or a public package): the owner's 1.0."""
    write_config(tmp_path, indexes.config())
    venv = make_venv()
    result = install(tmp_path, venv, "--installer", installer, request_name)
    assert result.returncode == 0, result.stderr
    assert installed(venv, "corp_dep") == "corp-dep 1.0"


def test_pip_conf_extra_index_is_routed(indexes, make_venv, tmp_path):
    """pip.conf's extra-index-url (with a credential in it) becomes an upstream: its own
    package installs, its squatted corp-dep loses, and pip never sees its URL or token."""
    write_config(tmp_path, indexes.config())
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nextra-index-url = {indexes.url('ext', EXT_USER, EXT_TOKEN)}\n")
    venv = make_venv()
    result = install(tmp_path, venv, "-v", "c-pkg", "corp-dep",
                     env={"PIP_CONFIG_FILE": str(conf)})
    assert result.returncode == 0, result.stderr
    assert installed(venv, "c_pkg") == "c-pkg 1.0"
    assert installed(venv, "corp_dep") == "corp-dep 1.0"
    assert "/ext/simple/" not in result.stdout  # pip's own output names only the local index


@pytest.mark.parametrize("form", [["-i", "{url}"], ["--extra-index-url", "{url}"],
                                  ["--extra-index-url={url}"], ["--extra", "{url}"]])
def test_command_line_index_options_are_routed(indexes, make_venv, tmp_path, form):
    write_config(tmp_path, indexes.config())
    venv = make_venv()
    url = indexes.url("ext", EXT_USER, EXT_TOKEN)
    args = [a.replace("{url}", url) for a in form]
    result = install(tmp_path, venv, *args, "c-pkg", "corp-dep")
    assert result.returncode == 0, result.stderr
    assert installed(venv, "c_pkg") == "c-pkg 1.0"
    assert installed(venv, "corp_dep") == "corp-dep 1.0"


def test_index_option_in_requirements_file_is_routed(indexes, make_venv, tmp_path):
    """A nested file's --extra-index-url, with its credential given as ${VAR} (expanded as
    pip does): an upstream; its squatted corp-dep loses to the owner's."""
    write_config(tmp_path, indexes.config())
    (tmp_path / "req.txt").write_text("-r inner.txt\n")
    url = indexes.url("ext", EXT_USER, "${EXT_TOKEN}")
    (tmp_path / "inner.txt").write_text(f"c-pkg\n# routed\n--extra-index-url {url}\ncorp-dep\n")
    venv = make_venv()
    result = install(tmp_path, venv, "-r", "req.txt", env={"EXT_TOKEN": EXT_TOKEN})
    assert result.returncode == 0, result.stderr
    assert installed(venv, "c_pkg") == "c-pkg 1.0"
    assert installed(venv, "corp_dep") == "corp-dep 1.0"
    assert "/ext/simple/" not in result.stdout


def test_find_links_url_is_refused_local_directory_passes(indexes, make_venv, tmp_path):
    write_config(tmp_path, indexes.config())
    venv = make_venv()
    result = install(tmp_path, venv, "-f", indexes.url("ext"), "c-pkg")
    assert result.returncode == 2
    assert "is a URL, which pip would read directly" in result.stderr
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _wheel(wheels, "local-only", "1.0")
    result = install(tmp_path, venv, "-f", str(wheels), "local-only")
    assert result.returncode == 0, result.stderr
    assert installed(venv, "local_only") == "local-only 1.0"


def test_build_backend_sees_no_upstream_token(indexes, make_venv, tmp_path):
    """An sdist's backend dumps its environment and every netrc it can find."""
    write_config(tmp_path, indexes.config())
    dump = tmp_path / "dump.txt"
    (Path(os.environ["HOME"]) / ".netrc").write_text(
        "machine elsewhere.example.com\nlogin me\npassword not-an-index-token\n")
    result = install(tmp_path, make_venv(), "dumper", env={"ROUTING_DUMP": str(dump)},
                     backend_fails=True)
    assert result.returncode == 1
    text = dump.read_text()
    assert "NETRC=" in text
    # The user's own loopback address (not 127.0.0.1, where other ports listen), and the
    # per-run credential for that address only, worthless after the run.
    local = re.search(r"PIP_INDEX_URL=http://(127\.[0-9.]+):[0-9]+/simple/", text)
    assert local is not None and local.group(1) != "127.0.0.1"
    assert f"machine {local.group(1)}\n" in text
    assert "not-an-index-token" in text  # the user's own entries still work
    no_token_in(text)


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_require_hashes(indexes, make_venv, tmp_path, installer):
    write_config(tmp_path, indexes.config())
    digest = hashlib.sha256(indexes.corp_wheel.read_bytes()).hexdigest()
    (tmp_path / "req.txt").write_text(f"corp-dep==1.0 --hash=sha256:{digest}\n")
    venv = make_venv()
    result = install(tmp_path, venv, "--installer", installer, "--require-hashes",
                     "-r", "req.txt")
    assert result.returncode == 0, result.stderr
    assert installed(venv, "corp_dep") == "corp-dep 1.0"


def test_upstream_401_gives_the_named_error_last(indexes, make_venv, tmp_path):
    write_config(tmp_path, indexes.config())
    result = install(tmp_path, make_venv(), "corp-dep",
                     env={"PRIVPIP_INDEX_CORP_TOKEN": "wrong-Token_" + "x" * 12})
    assert result.returncode == 1  # pip's status
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("privpip: index 'corp' (http://127.0.0.1:"), result.stderr
    assert "answered 401" in last or "answered 403" in last  # pypiserver: 403
    assert ("to the token from env:PRIVPIP_INDEX_CORP_TOKEN; set PRIVPIP_INDEX_CORP_TOKEN to a "
            "valid token") in last
    assert "wrong-Token_" not in result.stderr


def test_run_child_routes_pip_and_uv(indexes, make_venv, tmp_path):
    write_config(tmp_path, indexes.config())
    venv = make_venv()
    code = ("import os; print(os.environ['PIP_INDEX_URL']); "
            "print(os.environ['UV_DEFAULT_INDEX'].split('@')[1])")
    result = privpip("run", "--", venv_python(venv), "-c", code, cwd=tmp_path, env=TOKENS)
    assert result.returncode == 0, result.stderr
    pip_url, uv_url = result.stdout.split()
    assert re.match(r"http://127\.[0-9.]+:[0-9]+/simple/$", pip_url), pip_url
    assert pip_url == "http://" + uv_url
    no_token_in(result.stdout + result.stderr)
    result = privpip("run", "--", venv_python(venv), "-m", "pip", "install", "corp-top",
                     cwd=tmp_path, env=TOKENS)
    assert result.returncode == 0, result.stderr
    assert installed(venv, "corp_dep") == "corp-dep 1.0"
    uv_venv = make_venv()
    result = privpip("run", "--", sys.executable, "-m", "uv", "pip", "install", "--python",
                     venv_python(uv_venv), "corp-dep", cwd=tmp_path, env=TOKENS)
    assert result.returncode == 0, result.stderr
    assert installed(uv_venv, "corp_dep") == "corp-dep 1.0"


def _uv_config_cases(ext_url: str) -> dict[str, tuple[str, str]]:
    """Where a cloned repository (or the user) names an index for uv: file -> text. An
    index-url or a default [[index]] stands where uv's default would: privpip's own default
    index replaces it, as it replaces pip.conf's index-url (c-pkg is then not found)."""
    return {
        "uv.toml": ("uv.toml", f'extra-index-url = ["{ext_url}"]\n'),
        "uv.toml [pip]": ("uv.toml", f'[pip]\nextra-index-url = ["{ext_url}"]\n'),
        "pyproject [tool.uv]": ("pyproject.toml",
                                f'[project]\nname = "x"\n\n[tool.uv]\nindex-url = "{ext_url}"\n'),
        "pyproject [[tool.uv.index]]": ("pyproject.toml",
                                        f'[[tool.uv.index]]\nname = "ext"\nurl = "{ext_url}"\n'),
        "pyproject [tool.uv.pip]": ("pyproject.toml",
                                    f'[tool.uv.pip]\nextra-index-url = ["{ext_url}"]\n'),
        "user uv.toml": (".config/uv/uv.toml", f'[[index]]\nurl = "{ext_url}"\ndefault = true\n'),
    }


@pytest.mark.parametrize("case", list(_uv_config_cases("")))
def test_uv_config_index_is_routed(indexes, make_venv, tmp_path, case):
    """Issue 19, finding 8: an index that uv's own files name (the project's uv.toml or
    pyproject [tool.uv], the user's uv.toml) becomes an upstream after privpip's indexes: its
    own package installs, its squatted corp-dep 50.0 loses to the owner's 1.0, with
    --installer uv and for `privpip run -- uv pip install`."""
    write_config(tmp_path, indexes.config())
    name, text = _uv_config_cases(indexes.url("ext", EXT_USER, EXT_TOKEN))[case]
    path = (Path(os.environ["HOME"]) / name if name.startswith(".config")
            else tmp_path / name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    extra = "index-url" not in text and "default = true" not in text
    wanted = ["c-pkg", "corp-dep"] if extra else ["corp-dep"]
    venv = make_venv()
    result = privpip("-v", "--no-input", "install", "--python", venv_python(venv),
                     "--installer", "uv", *wanted, cwd=tmp_path, env=TOKENS)
    assert result.returncode == 0, result.stderr
    no_token_in(result.stdout + result.stderr)
    assert installed(venv, "corp_dep") == "corp-dep 1.0"
    if extra:
        assert installed(venv, "c_pkg") == "c-pkg 1.0"
    assert f"taken over: {indexes.url('ext')} from {path}:" in result.stderr
    run_venv = make_venv()
    result = privpip("run", "--", sys.executable, "-m", "uv", "pip", "install", "--python",
                     venv_python(run_venv), *wanted, cwd=tmp_path, env=TOKENS)
    assert result.returncode == 0, result.stderr
    no_token_in(result.stdout + result.stderr)
    assert installed(run_venv, "corp_dep") == "corp-dep 1.0"


def test_uv_config_keeps_other_settings_refuses_find_links_url(indexes, make_venv, tmp_path):
    """The child reads uv's settings without their index URLs (UV_CONFIG_FILE): [pip]
    no-deps still holds; a find-links URL there is refused with file and line."""
    write_config(tmp_path, indexes.config())
    ext = indexes.url("ext", EXT_USER, EXT_TOKEN)
    (tmp_path / "uv.toml").write_text(f'[pip]\nno-deps = true\nextra-index-url = ["{ext}"]\n')
    venv = make_venv()
    result = install(tmp_path, venv, "--installer", "uv", "corp-top")
    assert result.returncode == 0, result.stderr
    assert installed(venv, "corp_top") == "corp-top 1.0"
    assert installed(venv, "corp_dep").startswith("<not importable")  # no-deps was kept
    (tmp_path / "uv.toml").write_text(f'# wheels\nfind-links = ["{ext}"]\n')
    result = install(tmp_path, make_venv(), "--installer", "uv", "corp-dep")
    assert result.returncode == 2
    assert f"{tmp_path / 'uv.toml'}:2 (find-links): find-links" in result.stderr


@pytest.mark.parametrize("form, option", [
    (form, option) for form in ("pip", "python -m pip", "uv pip", "python -m uv pip")
    for option in ("--extra-index-url", "-i", "--index", "--default-index")
    if option != "--default-index" or "uv" in form])  # pip has no --default-index
def test_run_child_pip_index_options_are_routed(indexes, make_venv, tmp_path, form, option):
    """Issue 19, finding 8: `privpip run -- pip install --extra-index-url URL ...` (and -i,
    uv's --index / --default-index, through python -m too) is read as `privpip pip` reads
    it: the URL becomes an upstream after privpip's indexes, the squatted corp-dep 50.0
    loses to the owner's 1.0, and the child never sees the URL or its token."""
    write_config(tmp_path, indexes.config())
    venv = make_venv()
    python = venv_python(venv)
    # A `pip` script of this venv (the venv's own may name the interpreter it was copied from).
    script = tmp_path / "bin" / "pip"
    script.parent.mkdir()
    script.write_text(f"#!{python}\nimport sys\nfrom pip._internal.cli.main import main\n"
                      "sys.exit(main())\n")
    script.chmod(0o755)
    prefix = {"pip": [str(script)], "python -m pip": [python, "-m", "pip"],
              "uv pip": [str(Path(sys.executable).parent / "uv"), "pip"],
              "python -m uv pip": [sys.executable, "-m", "uv", "pip"]}[form]
    target = ["--python", python] if "uv" in form else []
    url = indexes.url("ext", EXT_USER, EXT_TOKEN)
    # An index-url in place of the default gives way to privpip's default: ask corp-dep only.
    wanted = ["corp-dep"] if option in ("-i", "--default-index") else ["c-pkg", "corp-dep"]
    result = privpip("-v", "run", "--", *prefix, "install", *target, option, url, *wanted,
                     cwd=tmp_path, env=TOKENS)
    assert result.returncode == 0, result.stderr
    no_token_in(result.stdout + result.stderr)
    assert installed(venv, "corp_dep") == "corp-dep 1.0", result.stdout + result.stderr
    if "c-pkg" in wanted:
        assert installed(venv, "c_pkg") == "c-pkg 1.0"
    assert f"taken over: {indexes.url('ext')} from command line" in result.stderr
    running = next(line for line in result.stderr.splitlines() if "running: " in line)
    assert "/ext/" not in running and option not in running.split()


def test_run_child_pip_find_links_url_and_uv_config_file_are_refused(indexes, make_venv,
                                                                      tmp_path):
    write_config(tmp_path, indexes.config())
    python = venv_python(make_venv())
    result = privpip("run", "--", python, "-m", "pip", "install", "-f", indexes.url("ext"),
                     "c-pkg", cwd=tmp_path, env=TOKENS)
    assert result.returncode == 2
    assert "is a URL, which pip would read directly" in result.stderr
    (tmp_path / "evil.toml").write_text(f'extra-index-url = ["{indexes.url("ext")}"]\n')
    result = privpip("run", "--", sys.executable, "-m", "uv", "--config-file", "evil.toml",
                     "pip", "install", "--python", python, "corp-dep", cwd=tmp_path, env=TOKENS)
    assert result.returncode == 2
    assert "uv --config-file: privpip cannot route" in result.stderr


def test_netrc_delivery_keeps_the_old_behaviour(indexes, make_venv, tmp_path):
    """--delivery netrc (and the config key): pip talks to the indexes itself, so two
    credentials on one host are refused (pip issue 10902), as before."""
    write_config(tmp_path, indexes.config())
    result = install(tmp_path, make_venv(), "--delivery", "netrc", "a-pkg")
    assert result.returncode == 1
    assert "are both on" in result.stderr
    # With only corp selected, pip would also search the public index, which the netrc
    # delivery's confusion check asks first: an empty open index on 127.0.0.1 stands in for
    # it (tests reach nothing but loopback).
    (tmp_path / "public").mkdir()
    public, public_root = start_pypiserver(tmp_path / "public", None, ".",
                                           tmp_path / "public.log")
    try:
        write_config(tmp_path, f'delivery = "netrc"\npublic-index = "{public_root}/simple/"\n'
                     + indexes.config())
        venv = make_venv()
        result = install(tmp_path, venv, "--index", "corp", "corp-dep")
    finally:
        stop_server(public)
    assert result.returncode == 0, result.stderr
    assert installed(venv, "corp_dep") == "corp-dep 1.0"


def test_serve_for_plain_pip(indexes, make_venv, tmp_path):
    write_config(tmp_path, indexes.config())
    port = free_port()
    env = {**os.environ, **TOKENS, "PYTHONPATH": str(TESTS.parent)}
    server = subprocess.Popen([sys.executable, "-m", "privpip", "serve", "--port", str(port)],
                              cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout is not None
        lines = [server.stdout.readline() for _ in range(6)]
        assert re.match(rf"privpip: serving 2 index\(es\) at http://127\.[0-9.]+:{port}/",
                        lines[0]), lines[0]
        url = next(line.split("PIP_INDEX_URL=", 1)[1].strip() for line in lines
                   if "PIP_INDEX_URL=" in line)
        venv = make_venv()
        result = subprocess.run([venv_python(venv), "-m", "pip", "install", "--index-url", url,
                                 "corp-top", "b-pkg"], capture_output=True, text=True,
                                timeout=120, env={**os.environ, "PIP_NO_INPUT": "1"})
        assert result.returncode == 0, result.stderr
        assert installed(venv, "corp_dep") == "corp-dep 1.0"
        assert installed(venv, "b_pkg") == "b-pkg 1.0"
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=20)
        assert server.returncode == 0, err
        assert "Traceback" not in err
        no_token_in("".join(lines) + out + err)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
