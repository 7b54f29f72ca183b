"""privpip.core.pipargs: the one reader of pip command lines and requirement files."""

from __future__ import annotations

import pytest

from privpip.core import pipargs


@pytest.mark.parametrize("args, expected", [
    (["install", "x"], 0),
    (["-q", "install", "x"], 1),
    (["--log", "pip.log", "install", "x"], 2),  # a global option's value is not the command
    (["--log=pip.log", "--timeout", "5", "download", "x"], 3),
    (["-v"], None),
    ([], None),
])
def test_command_at(args, expected):
    assert pipargs.command_at(args) == expected


def test_option_forms(tmp_path):
    for name in ("a", "b", "c", "d", "e"):
        (tmp_path / f"{name}.txt").write_text(f"pkg-{name}\n")
    req = pipargs.scan(["-r", "a.txt", "-rb.txt", "-r=c.txt", "--requirement", "d.txt",
                        "--requirement=e.txt", "Top_Level==1"], tmp_path)
    assert sorted(req.names) == ["pkg-a", "pkg-b", "pkg-c", "pkg-d", "pkg-e", "top-level"]


def test_nested_files_and_constraints(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "top.txt").write_text("-r sub/inner.txt\n-c constraints.txt\nfirst\n")
    (tmp_path / "sub" / "inner.txt").write_text("# a comment\nsecond \\\n  >=1.0\n-r top.txt\n")
    (tmp_path / "constraints.txt").write_text("constrained==1.0\n-c more.txt\n")
    (tmp_path / "more.txt").write_text("dep @ git+https://git.example.com/dep.git\n")
    req = pipargs.scan(["-r", "top.txt"], tmp_path)
    # Constraints limit versions; they do not ask for a package.
    assert req.names == {"second": "sub/inner.txt", "first": "top.txt"}
    # ...but a git+ URL in a nested constraints file still means git will run.
    assert req.mentions_git


@pytest.mark.parametrize("args, expected", [
    (["git+https://h.example/x.git"], True),
    (["-e", "git+ssh://git@h.example/x.git#egg=x"], True),
    (["--editable=git+https://h.example/x.git"], True),
    (["x @ git+https://h.example/x.git"], True),
    (["digit+https://h.example/"], False),
    (["x"], False),
])
def test_mentions_git_on_the_command_line(tmp_path, args, expected):
    assert pipargs.scan(args, tmp_path).mentions_git is expected


def test_a_git_url_in_a_comment_is_not_a_requirement(tmp_path):
    (tmp_path / "r.txt").write_text("# was: git+https://h.example/x.git\nx\n")
    assert not pipargs.scan(["-r", "r.txt"], tmp_path).mentions_git


def test_index_options_in_files(tmp_path):
    (tmp_path / "r.txt").write_text("--index-url https://a.example/simple/\n"
                                    "--extra-index-url=https://b.example/simple/\n--no-index\nx\n")
    req = pipargs.scan(["-r", "r.txt"], tmp_path)
    assert req.index_url == "https://a.example/simple/"
    assert req.extra_index_urls == ["https://b.example/simple/"]
    assert req.no_index
