"""privpip.core.pipargs: the one reader of pip command lines and requirement files."""

from __future__ import annotations

from pathlib import Path

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
    assert pipargs.walk(args, Path()).command_at == expected


def test_option_forms(tmp_path):
    for name in ("a", "b", "c", "d", "e"):
        (tmp_path / f"{name}.txt").write_text(f"pkg-{name}\n")
    req = pipargs.walk(["install", "-r", "a.txt", "-rb.txt", "-r=c.txt", "--requirement",
                        "d.txt", "--requirement=e.txt", "Top_Level==1"], tmp_path)
    assert sorted(req.names()) == ["pkg-a", "pkg-b", "pkg-c", "pkg-d", "pkg-e", "top-level"]


def test_nested_files_and_constraints(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "top.txt").write_text("-r sub/inner.txt\n-c constraints.txt\nfirst\n")
    (tmp_path / "sub" / "inner.txt").write_text("# a comment\nsecond \\\n  >=1.0\n-r top.txt\n")
    (tmp_path / "constraints.txt").write_text("constrained==1.0\n-c more.txt\n")
    (tmp_path / "more.txt").write_text("dep @ git+https://git.example.com/dep.git\n")
    req = pipargs.walk(["install", "-r", "top.txt"], tmp_path)
    # Constraints limit versions; they do not ask for a package.
    assert req.names() == {"second": "sub/inner.txt", "first": "top.txt"}
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
    assert pipargs.walk(["install", *args], tmp_path).mentions_git is expected


def test_a_git_url_in_a_comment_is_not_a_requirement(tmp_path):
    (tmp_path / "r.txt").write_text("# was: git+https://h.example/x.git\nx\n")
    assert not pipargs.walk(["install", "-r", "r.txt"], tmp_path).mentions_git


def test_index_options_in_files(tmp_path):
    (tmp_path / "r.txt").write_text("--index-url https://a.example/simple/\n"
                                    "--extra-index-url=https://b.example/simple/\n--no-index\nx\n")
    req = pipargs.walk(["install", "-r", "r.txt"], tmp_path)
    assert req.index_url == "https://a.example/simple/"
    assert req.extra_index_urls == ["https://b.example/simple/"]
    assert req.no_index


def test_one_walk_holds_what_every_step_reads(tmp_path):
    """routing (index options with spans or FILE:LINE, the files and their texts), the
    confusion check (names, index options), git (mentions_git), provenance (--target)."""
    (tmp_path / "req.txt").write_text("corp-a\n--extra https://x.example/simple/\n"
                                      "git+https://h.example/g.git\n")
    walk = pipargs.walk(["-q", "install", "--target", "out", "-r", "req.txt", "corp-b"],
                        tmp_path)
    assert walk.command_at == 1
    assert walk.target == "out"
    assert [(o.option, o.value, o.where, o.span) for o in walk.options] == [
        ("--extra-index-url", "https://x.example/simple/", "req.txt:2", None)]
    assert [(o.option, o.value, o.span) for o in walk.files] == [("-r", "req.txt", (4, 6))]
    assert walk.texts == (((tmp_path / "req.txt").resolve(),
                           (tmp_path / "req.txt").read_text()),)
    assert walk.names() == {"corp-a": "req.txt", "corp-b": "command line"}
    assert walk.mentions_git
    assert walk.extra_index_urls == ["https://x.example/simple/"]


def test_private_copies_are_made_from_the_walk_without_opening_a_file_again(tmp_path):
    (tmp_path / "req.txt").write_text("-i https://x.example/simple/\n-r inner.txt\nfirst\n")
    (tmp_path / "inner.txt").write_text("second\n")
    walk = pipargs.walk(["install", "--extra-index-url", "https://y.example/", "-r", "req.txt"],
                        tmp_path)
    (tmp_path / "req.txt").unlink()
    (tmp_path / "inner.txt").unlink()
    taken = [o for o in walk.options if o.span]
    args, copies = pipargs.private_copies(walk, taken)
    assert args == ["install", "-r", pipargs.COPY + "1-req.txt"]
    assert copies == [("2-inner.txt", "second\n"), ("1-req.txt", "\n-r 2-inner.txt\nfirst\n")]


def test_scan_and_migrate_read_one_line_without_opening_its_files(tmp_path):
    (tmp_path / "other.txt").write_text("--index-url https://x.example/simple/\n")
    walk = pipargs.walk(["-r", "other.txt", "--extra-index-url", "https://y.example/"],
                        tmp_path, follow_files=False)
    assert walk.texts == () and walk.unreadable == ()
    assert [o.value for o in walk.files] == ["other.txt"]
    assert [o.value for o in walk.options] == ["https://y.example/"]


def test_after_double_dash_everything_is_a_requirement(tmp_path):
    (tmp_path / "r.txt").write_text("--index-url https://x.example/simple/\n")
    walk = pipargs.walk(["install", "x", "--", "-r", "r.txt", "y"], tmp_path)
    assert walk.options == () and walk.files == () and walk.texts == ()
    assert list(walk.names()) == ["x", "y"]
