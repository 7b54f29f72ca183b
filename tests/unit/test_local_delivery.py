"""Local delivery's take-over of pip's index settings, and pipargs' index option reader."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from privpip.config import Config, Index
from privpip.core import pipargs
from privpip.core.secret import Secret
from privpip.credentials import Credential
from privpip.run.delivery import Access
from privpip.run.delivery.local import RoutingRefused, describe, plan, taken_over

URL = "https://ext.example.com/simple/"


@pytest.mark.parametrize("args, option, value, span", [
    (["install", "-i", URL, "x"], "--index-url", URL, (1, 3)),
    (["install", f"--index-url={URL}"], "--index-url", URL, (1, 2)),
    (["install", "--ind", URL], "--index-url", URL, (1, 3)),
    (["install", "--extra", URL], "--extra-index-url", URL, (1, 3)),
    (["install", f"--ext={URL}"], "--extra-index-url", URL, (1, 2)),
    (["install", "-qi", URL], "--index-url", URL, (1, 3)),
    (["install", f"-vi{URL}"], "--index-url", URL, (1, 2)),
    (["install", "-f", URL], "--find-links", URL, (1, 3)),
    (["install", "--no-ind"], "--no-index", None, (1, 2)),
])
def test_index_option_forms(args, option, value, span, tmp_path):
    found = pipargs.walk(args, tmp_path).options
    assert [(o.option, o.value, o.span) for o in found] == [(option, value, span)]
    assert pipargs.without(args, found) == [a for n, a in enumerate(args)
                                            if n not in range(*span)]


def test_ambiguous_prefixes_are_left_to_pip(tmp_path):
    # --ex is also --exists-action, --no-in also --no-input: pip itself refuses them.
    assert pipargs.walk(["install", "--ex", URL, "--no-in"], tmp_path).options == ()


@pytest.mark.parametrize("encoding, bom", [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"),
                                           ("utf-16-le", b"\xff\xfe"),
                                           ("utf-16-be", b"\xfe\xff")])
def test_options_in_nested_files_with_line_numbers(tmp_path, encoding, bom):
    (tmp_path / "sub").mkdir()
    (tmp_path / "top.txt").write_text("first\n-r sub/inner.txt\n")
    text = "# comment\nsecond \\\n  >=1\n\n--extra-index-url " + URL + "\n"
    (tmp_path / "sub" / "inner.txt").write_bytes(bom + text.encode(encoding))
    found = pipargs.walk(["install", "-r", "top.txt"], tmp_path).options
    assert [(o.option, o.where, o.span) for o in found] == [
        ("--extra-index-url", "sub/inner.txt:5", None)]


def test_remote_requirements_file_is_unreadable(tmp_path):
    out = pipargs.walk(["install", "-r", "https://x.example/req.txt"], tmp_path)
    assert out.unreadable and "remote requirements file" in out.unreadable[0]


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"HOME": str(tmp_path), "PIP_CONFIG_FILE": os.devnull, **extra}


def take(env: dict[str, str], cwd: Path, args: list[str], *rest, **options):
    """taken_over for ``args`` as the pipeline gives them: the run's one walk of them."""
    return taken_over(env, cwd, pipargs.walk(args, cwd), *rest, **options)


def test_requirement_file_indexes_are_taken_over_and_pip_reads_private_copies(tmp_path):
    """The index lines go (taken over, ${VAR} expanded as pip does); nested -r/-c point at
    the other copies by name; a relative find-links is resolved against its file's
    directory, as pip does; every other line stays at its line number."""
    (tmp_path / "sub" / "wheels").mkdir(parents=True)
    (tmp_path / "req.txt").write_text(
        "# top\ncorp-app==1.0\n--extra-index-url https://${TORCH_HOST}/whl/cpu\n"
        "-r sub/inner.txt\n-e ./local-pkg\n")
    (tmp_path / "sub" / "inner.txt").write_text(
        "-i https://mirror.example/simple/\n--find-links wheels\n-c ../cons.txt\nsix \\\n"
        "  >=1\nfoo --hash=sha256:abc\n")
    (tmp_path / "cons.txt").write_text("six<2\n")
    found, args, copies, _ = take(env(tmp_path, TORCH_HOST="download.pytorch.org"), tmp_path,
                                     ["install", "-q", "-rreq.txt", "x"], "install", None)
    assert [(t.url, t.where, t.replaces_default, t.in_args) for t in found] == [
        ("https://download.pytorch.org/whl/cpu", "req.txt:3 (--extra-index-url)", False, True),
        ("https://mirror.example/simple/", "sub/inner.txt:1 (--index-url)", True, True),
    ]
    assert args == ["install", "-q", "-r", pipargs.COPY + "1-req.txt", "x"]
    assert dict(copies) == {
        "1-req.txt": "\ncorp-app==1.0\n\n-r 2-inner.txt\n-e ./local-pkg\n",
        "2-inner.txt": f"\n--find-links {tmp_path / 'sub' / 'wheels'}\n-c 3-cons.txt\nsix   >=1\n"
                       "\nfoo --hash=sha256:abc\n",
        "3-cons.txt": "six<2\n",
    }
    # Without index lines, pip reads the files themselves; their find-links are noticed.
    (tmp_path / "plain.txt").write_text("six\n--find-links sub/wheels\n")
    assert take(env(tmp_path), tmp_path, ["install", "-r", "plain.txt"], "install",
                      None) == ([], ["install", "-r", "plain.txt"], [], True)


def test_requirement_file_find_links_url_is_refused_with_file_and_line(tmp_path):
    (tmp_path / "req.txt").write_text(f"a\n-f {URL}\n")
    with pytest.raises(RoutingRefused, match=r"req.txt:2 \(--find-links\): find-links .* is a URL"):
        take(env(tmp_path), tmp_path, ["install", "-r", "req.txt"], "install", None)


def test_file_indexes_pass_to_pip_as_they_are(tmp_path):
    """An air-gapped mirror or a wheelhouse as a file:// index: no refusal, no upstream; pip
    (and uv) read it themselves, and a file:// index-url replaces the public index."""
    from privpip.run.delivery.local import TakenOver

    corp = Index("corp", "https://corp.example/simple/")
    mirror = TakenOver("file:///srv/mirror/simple", "pip.conf:2 (index-url)",
                       replaces_default=True)
    wheels = TakenOver("file:///srv/wheels/", "PIP_EXTRA_INDEX_URL")
    routed = plan(Config((corp,)), [Access(corp, None)], [mirror, wheels])
    assert [u.name for u in routed.upstreams] == ["corp"]
    assert routed.passthrough == ["file:///srv/wheels/", "file:///srv/mirror/simple"]


def test_find_links_url_refused_local_path_passes(tmp_path):
    with pytest.raises(RoutingRefused, match="is a URL"):
        take(env(tmp_path), tmp_path, ["install", "-f", URL], "install", None)
    found, args, _, find_links = take(env(tmp_path), tmp_path,
                                            ["install", "-f", "wheels", "x"], "install", None)
    assert found == [] and args == ["install", "-f", "wheels", "x"] and find_links
    # pip's settings and uv's variable count as well (what they hold is not seen by privpip).
    assert take(env(tmp_path, PIP_FIND_LINKS="wheels"), tmp_path, ["install", "x"],
                      "install", None)[3]
    assert take(env(tmp_path, UV_FIND_LINKS="wheels"), tmp_path, ["install", "x"],
                      "install", None, pip=False, uv=True)[3]
    # uv's own config files: a project's pyproject.toml or uv.toml (here or in a parent),
    # the user's uv.toml; not with UV_NO_CONFIG, not for pip.
    project = tmp_path / "project" / "sub"
    project.mkdir(parents=True)
    assert not take(env(tmp_path), project, ["install", "x"], "install", None,
                          pip=False, uv=True)[3]
    (tmp_path / "project" / "pyproject.toml").write_text('[tool.uv]\nfind-links = ["w"]\n')
    assert take(env(tmp_path), project, ["install", "x"], "install", None,
                      pip=False, uv=True)[3]
    assert not take(env(tmp_path, UV_NO_CONFIG="1"), project, ["install", "x"],
                          "install", None, pip=False, uv=True)[3]
    assert not take(env(tmp_path), project, ["install", "x"], "install", None)[3]
    (tmp_path / "project" / "pyproject.toml").unlink()
    (tmp_path / ".config" / "uv").mkdir(parents=True)
    (tmp_path / ".config" / "uv" / "uv.toml").write_text('find-links = ["/srv/wheels"]\n')
    assert take(env(tmp_path), project, ["install", "x"], "install", None,
                      pip=False, uv=True)[3]


def test_pip_conf_variables_and_command_line_are_taken_over(tmp_path):
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nextra-index-url =\n    {URL}\n    https://u:tok@two.example/simple/\n")
    found, args, _, find_links = take(
        env(tmp_path, PIP_CONFIG_FILE=str(conf), PIP_INDEX_URL="https://mirror.example/simple/"),
        tmp_path, ["install", "--extra-index-url", "https://three.example/simple/", "x"],
        "install", None)
    assert args == ["install", "x"] and not find_links
    assert [(t.url, t.replaces_default) for t in found] == [
        (URL, False), ("https://u:tok@two.example/simple/", False),
        ("https://mirror.example/simple/", True), ("https://three.example/simple/", False)]
    assert found[0].where == f"{conf}:2 (extra-index-url)"


def test_plan_orders_upstreams_and_moves_credentials(tmp_path):
    corp = Index("corp", "https://corp.example/simple/", packages=("corp-*",))
    cfg = Config((corp,))
    access = Access(corp, Credential("__token__", Secret("corp-secret"), "env:X"))
    found, _, _, _ = take(
        env(tmp_path, PIP_INDEX_URL="https://mirror.example/simple/",
            PIP_EXTRA_INDEX_URL="https://u:tok%40x@two.example/simple/ "
                                "https://corp.example/simple"),
        tmp_path, [], "install", None)
    routed = plan(cfg, [access], found)
    # Private first: privpip's own, then the taken-over extras, the stand-in for PyPI last.
    assert [(u.name, u.url, u.owns, u.username, u.explicit) for u in routed.upstreams] == [
        ("corp", "https://corp.example/simple/", ("corp-*",), "__token__", True),
        ("extra", "https://two.example/simple/", (), "u", False),
        ("index-url", "https://mirror.example/simple/", (), None, False),  # stands in for PyPI
    ]
    assert routed.upstreams[1].token is not None
    assert routed.upstreams[1].token.reveal() == "tok@x"
    assert routed.origins["extra"] == "PIP_EXTRA_INDEX_URL"


def test_public_index_only_without_a_default(tmp_path):
    corp = Index("corp", "https://corp.example/simple/")
    assert [u.name for u in plan(Config((corp,)), [Access(corp, None)], []).upstreams] == [
        "corp", "public"]
    default = corp._replace(default=True)
    assert [u.name for u in plan(Config((default,)), [Access(default, None)], []).upstreams] == [
        "corp"]


def test_plan_puts_extra_indexes_first_and_the_default_last_and_skips_on_request():
    """uv's first-index order: privpip's extra indexes in config order, its default index,
    then what pip would ask besides; a default index with packages is not explicit (it is
    the one that serves every other name)."""
    from privpip.errors import UsageError
    from privpip.run.delivery.local import TakenOver

    default = Index("main", "https://main.example/simple/", default=True, packages=("corp-*",))
    team = Index("team", "https://team.example/simple/")
    tool = Index("tool", "https://tool.example/simple/", packages=("tool-*",))
    cfg = Config((default, team, tool), index_strategy="unsafe-best-match")
    accesses = [Access(i, None) for i in cfg.indexes]
    pytorch = TakenOver("https://download.pytorch.org/whl/cpu", "req.txt:1")
    routed = plan(cfg, accesses, [pytorch])
    assert [(u.name, u.explicit) for u in routed.upstreams] == [
        ("team", False), ("tool", True), ("main", False), ("extra", False)]
    assert routed.strategy == "unsafe-best-match"
    assert [u.name for u in plan(cfg, accesses, [pytorch], skip=["team", "extra"]).upstreams
            ] == ["tool", "main"]
    with pytest.raises(UsageError, match="--skip-index tool: index 'tool' declares packages"):
        plan(cfg, accesses, [], skip=["tool"])
    with pytest.raises(UsageError, match="--skip-index nope: no index of this run"):
        plan(cfg, accesses, [], skip=["nope"])


def test_withheld_page_hint_for_a_taken_over_index_names_where_it_came_from():
    from privpip.localindex import routing

    problem = routing.withheld("six", ["extra"], "public")
    line = describe(problem, {"extra": "pip.conf:3 (extra-index-url)"}, {"corp": "CORP"})
    assert line.endswith("leave it out of this run: --skip-index extra (extra from pip.conf:3 "
                         "(extra-index-url)); or remove it there, or add it with `privpip index "
                         "add` and declare its packages")
    configured = describe(routing.withheld("six", ["corp"], "public"), {}, {"corp": "CORP"})
    assert "declare the packages it does hold" in configured
    assert configured.endswith("--skip-index corp")


def test_only_configured_indexes_are_connected_to_ahead(tmp_path):
    """The public index and the indexes taken over from pip are contacted only when a request
    needs them: no connection to them just because privpip started."""
    from privpip.run.delivery.local import TakenOver, new_index

    corp = Index("corp", "https://corp.example/simple/")
    routed = plan(Config((corp,)), [Access(corp, None)],
                  [TakenOver("https://extra.example/simple/", "PIP_EXTRA_INDEX_URL")])
    assert [u.name for u in routed.upstreams] == ["corp", "extra", "public"]
    index = new_index({"PIP_CONFIG_FILE": os.devnull}, routed)
    assert index.connect_ahead == ("corp",)


@pytest.mark.parametrize(("argv", "tool"), [
    (["uv", "lock"], "uv lock"),
    (["/usr/bin/uv", "--quiet", "sync", "--frozen"], "uv sync"),
    (["uv", "pip", "install", "x"], None),
    (["uv", "pip", "compile", "req.in"], None),
    (["pip-compile", "--generate-hashes", "req.in"], "pip-compile"),
    (["python", "-m", "piptools", "compile"], "pip-tools compile"),
    (["python3", "-m", "pip", "lock", "x"], "pip lock"),
    (["pip", "install", "x"], None),
    (["python", "-m", "build"], None),
    (["poetry", "lock"], "poetry"),
    (["pdm", "install"], "pdm"),
    (["tox"], None),
    ([], None),
])
def test_lock_tools_default_to_netrc(argv, tool):
    """Tools that write index URLs into a lock file must see the real URLs (run's default)."""
    from privpip.run.pipeline import lock_tool

    assert lock_tool(argv) == tool


@pytest.mark.parametrize(("raw", "expected"), [("", 30.0), (" 90 ", 90.0), ("0.5", 0.5)])
def test_upstream_timeout_from_the_environment(raw, expected):
    from privpip.run.delivery.local import upstream_timeout

    assert upstream_timeout({"PRIVPIP_UPSTREAM_TIMEOUT": raw}) == expected
    assert upstream_timeout({}) == 30.0


@pytest.mark.parametrize("raw", ["0", "-3", "soon", "nan", "1e9"])
def test_a_bad_upstream_timeout_is_a_usage_error(raw):
    from privpip.errors import UsageError
    from privpip.run.delivery.local import upstream_timeout

    with pytest.raises(UsageError, match="PRIVPIP_UPSTREAM_TIMEOUT"):
        upstream_timeout({"PRIVPIP_UPSTREAM_TIMEOUT": raw})


def test_uv_files_are_read_and_merged_as_uv_does(tmp_path):
    """uv's discovery (a directory's uv.toml before its pyproject.toml, the nearest only,
    then the user's), its merge (project first in arrays, project's scalars win) and the
    copy the child reads without index URLs; file:line for each index setting."""
    from privpip.core import pipconfig
    from privpip.run.delivery.local import read_uv_files, uv_config_copy

    project = tmp_path / "project" / "sub"
    project.mkdir(parents=True)
    (tmp_path / "project" / "pyproject.toml").write_text(
        '[project]\nname = "p"\n\n[tool.uv]\nnative-tls = true\nfind-links = ["w"]\n'
        f'extra-index-url = ["{URL}"]\n\n[[tool.uv.index]]\nurl = "https://b.example/s/"\n'
        'default = true\n\n[tool.uv.pip]\nno-deps = true\nindex-url = "https://c.example/s/"\n')
    (tmp_path / "pyproject.toml").write_text('[tool.uv]\nextra-index-url = ["https://no/"]\n')
    user = tmp_path / ".config" / "uv"
    user.mkdir(parents=True)
    (user / "uv.toml").write_text('native-tls = false\ncache-dir = "/c"\nfind-links = ["/u"]\n')
    files = read_uv_files(env(tmp_path), project)
    assert [f.path for f in files] == [tmp_path / "project" / "pyproject.toml", user / "uv.toml"]
    found = [(s.location, s.section, s.key, s.values) for s in pipconfig.uv_settings(files)]
    pyproject = tmp_path / "project" / "pyproject.toml"
    assert found == [
        (f"{pyproject}:7", "", "extra-index-url", (URL,)),
        (f"{pyproject}:9", "default", "index", ("https://b.example/s/",)),
        (f"{pyproject}:6", "", "find-links", (str(tmp_path / "project" / "w"),)),
        (f"{pyproject}:15", "pip", "index-url", ("https://c.example/s/",)),
        (f"{user / 'uv.toml'}:3", "", "find-links", ("/u",)),
    ]
    assert uv_config_copy(files) == {
        "native-tls": True, "cache-dir": "/c", "pip": {"no-deps": True},
        "find-links": [str(tmp_path / "project" / "w"), "/u"]}
    # A directory's uv.toml wins over its pyproject; UV_CONFIG_FILE replaces them all.
    (tmp_path / "project" / "uv.toml").write_text("no-cache = true\n")
    assert [f.path for f in read_uv_files(env(tmp_path), project)][0].name == "uv.toml"
    assert uv_config_copy(read_uv_files(env(tmp_path), project)) is None  # no index URL
    assert read_uv_files(env(tmp_path, UV_CONFIG_FILE=str(user / "uv.toml")), project) == [
        files[1]]
    (tmp_path / "project" / "uv.toml").write_text("index-url = [\n")
    with pytest.raises(RoutingRefused, match="cannot tell which indexes uv would use: .*uv.toml"):
        read_uv_files(env(tmp_path), project)


@pytest.mark.parametrize("argv, expected", [
    (["pip", "install", "x"], (1, "pip")),
    (["/venv/bin/pip3.11", "install"], (1, "pip")),
    (["python", "-m", "pip", "install"], (3, "pip")),
    (["python3.12", "-I", "-X", "dev", "-m", "pip", "x"], (6, "pip")),
    (["python", "-mpip", "x"], (2, "pip")),
    (["uv", "-q", "--directory", "d", "pip", "install", "x"], (5, "uv")),
    (["python", "-m", "uv", "pip", "install"], (4, "uv")),
    (["uv", "sync"], None),
    (["python", "-c", "import pip"], None),
    (["python", "-m", "build"], None),
    (["sh", "-c", "pip install x"], None),
    ([], None),
])
def test_installer_args_at(argv, expected):
    """Where `privpip run` finds pip's or uv pip's own arguments (to read as `privpip pip`)."""
    assert pipargs.installer_args_at(argv) == expected


def test_uv_default_index_is_an_index_option():
    found = pipargs.walk(["install", "--default-index", URL, "x"], Path("."))
    assert [(o.option, o.value, o.span) for o in found.options] == [("--index-url", URL, (1, 3))]
