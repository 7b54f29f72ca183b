"""The documentation: the README's size and first commands, the strict site build, and every
`privpip ...` command line shown in a fenced block checked against the real command tree."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from privpip.cli import cli

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
README_LIMIT = 12 * 1024
HELP = ("-h", "--help")

# Where a command line ends: shell operators, a command substitution's end, an inline code
# span's end, a quote around the whole substitution.
_END = re.compile(r"[|;&)`\"<>]|\s#")
# Where privpip is the command: at the start of a line (after a prompt, a YAML list dash or
# `run:`, and variable assignments), after `$(`, a pipe, `&&`, `;`, or `python -m`.
_PRIVPIP = re.compile(
    r"(?:^\s*(?:\$\s+|-\s+|run:\s+)?(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*|\$\(|\|\s*|&&\s*|;\s*"
    r"|-m\s+)privpip(?=\s|$)"
)


def fenced_lines(text: str) -> list[str]:
    """Lines inside ``` blocks, with backslash continuations joined."""
    out: list[str] = []
    inside = False
    pending = ""
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            inside = not inside
            continue
        if not inside:
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        out.append(pending + line)
        pending = ""
    return out


def command_lines() -> list[tuple[str, str]]:
    """(page, words after `privpip`) for each privpip command in a fenced block."""
    found = []
    for page in PAGES:
        for line in fenced_lines(page.read_text(encoding="utf-8")):
            for match in _PRIVPIP.finditer(line):
                rest = line[match.end():]
                end = _END.search(rest)
                found.append((page.relative_to(ROOT).as_posix(), rest[: end.start()] if end else rest))
    return found


def _options(command: click.Command) -> dict[str, click.Parameter]:
    return {opt: p for p in command.params if isinstance(p, click.Option)
            for opt in (*p.opts, *p.secondary_opts)}


def _takes_value(param: click.Parameter) -> bool:
    return not (isinstance(param, click.Option) and (param.is_flag or param.count))


def _pip_parser(name: str):
    from pip._internal.commands import create_command

    return create_command(name).parser


def check_command(words: list[str]) -> str | None:
    """None when the words name a real command and real long options; else what is wrong."""
    ctx = click.Context(cli)
    command: click.Command = cli
    i = 0
    while isinstance(command, click.Group):
        options = _options(command)
        while i < len(words) and words[i].startswith("-") and words[i] != "--":
            name = words[i].split("=", 1)[0]
            if name in HELP:
                return None
            if name not in options:
                return f"{' '.join(words)}: no option {name} before the command name"
            i += 2 if _takes_value(options[name]) and "=" not in words[i] else 1
        if i >= len(words):
            return None  # `privpip` or `privpip index` alone: shows help
        sub = command.get_command(ctx, words[i])
        if sub is None:
            return f"{' '.join(words)}: no command {words[i]!r}"
        command = sub
        i += 1
    # For install / pip (unknown options go to pip) the rest is pip's command line.
    passthrough = bool(command.context_settings.get("ignore_unknown_options"))
    if command.name == "run":
        return None  # after `--` comes the child's own command line
    pip_command = {"install": "install"}.get(command.name or "")
    options = _options(command)
    privpip_part = True
    while i < len(words):
        word = words[i]
        if word == "--":
            privpip_part = False
            i += 1
            continue
        if word.startswith("--"):
            name = word.split("=", 1)[0]
            if name in HELP and privpip_part:
                return None
            if privpip_part and name in options:
                i += 2 if _takes_value(options[name]) and "=" not in word else 1
                continue
            if not passthrough:
                return f"{' '.join(words)}: {command.name} has no option {name}"
            if pip_command is None:
                return f"{' '.join(words)}: cannot tell which pip command {name} is for"
            parser = _pip_parser(pip_command)
            if not parser.has_option(name):
                return f"{' '.join(words)}: neither privpip {command.name} nor pip {pip_command} has {name}"
            i += 2 if parser.get_option(name).takes_value() and "=" not in word else 1
            continue
        if not word.startswith("-") and passthrough:
            privpip_part = False  # click stops parsing options here; pip gets the rest
            if passthrough and pip_command is None:
                pip_command = word  # `privpip pip download ...`: the pip command
        i += 1
    return None


def test_readme_fits_on_a_screen_or_two():
    size = len((ROOT / "README.md").read_bytes())
    assert size <= README_LIMIT, f"README.md is {size} bytes; move detail to docs/"


def test_readme_starts_with_the_demo_and_the_ci_test_command():
    """.ci/run runs the README's test command verbatim; the demo comes first."""
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert blocks[0].strip().endswith(".demo/bin/python examples/local-index/demo.py")
    assert (ROOT / "examples" / "local-index" / "demo.py").is_file()
    ci = (ROOT / ".ci" / "run").read_text()
    assert blocks[1].strip() in ci.splitlines()


def test_every_page_is_reachable_from_the_readme_or_the_nav():
    readme = (ROOT / "README.md").read_text()
    nav = (ROOT / "mkdocs.yml").read_text()
    for page in (ROOT / "docs").rglob("*.md"):
        rel = page.relative_to(ROOT / "docs").as_posix()
        assert rel in nav, f"docs/{rel} is not in mkdocs.yml's nav"
        if "/" not in rel and rel != "index.md":
            assert f"docs/{rel}" in readme, f"README.md does not link docs/{rel}"


def test_the_commands_shown_exist():
    lines = command_lines()
    assert len(lines) > 50  # the extraction found the docs' commands
    problems = [f"{page}: {problem}" for page, rest in lines
                if (problem := check_command(rest.split()))]
    assert problems == []


@pytest.mark.parametrize("words, wrong", [
    ("instal corp-lib", "no command 'instal'"),
    ("index ad corp URL", "no command 'ad'"),
    ("status --chek", "status has no option --chek"),
    ("install corp-lib --index corp", "nor pip install has --index"),
    ("install --python .venv corp-lib --upgrad", "nor pip install has --upgrad"),
    ("pip download corp-lib --dest-dir x", "nor pip download has --dest-dir"),
    ("--verbos status", "no option --verbos"),
])
def test_the_checker_catches_mistakes(words, wrong):
    problem = check_command(words.split())
    assert problem is not None and wrong in problem


def test_the_checker_accepts_real_lines():
    for words in ["-v --config x.toml install -r requirements.txt --upgrade",
                  "install --index corp --python .venv -- corp-lib",
                  "pip download corp-lib -d dist/", "run --index corp -- pip lock -o x",
                  "env --shell netrc", "index add gl URL --username u --token-env CI_JOB_TOKEN"]:
        assert check_command(words.split()) is None, words


def test_site_builds_strict(tmp_path):
    pytest.importorskip("mkdocs", reason="mkdocs is in the test extra")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site"),
         "--config-file", str(ROOT / "mkdocs.yml")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "docker" / "index.html").is_file()


def exit_code_rows() -> dict[str, str]:
    """docs/troubleshooting.md's "Exit codes" table: status column -> when."""
    text = (ROOT / "docs" / "troubleshooting.md").read_text(encoding="utf-8")
    section = text.split("\n## Exit codes\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 2 and cells[0] not in ("status", "---"):
            rows[cells[0]] = cells[1]
    return rows


def test_the_exit_code_table_is_errors_table():
    """The documented statuses are privpip.errors' own, plus the child's passed through (N)
    and its signal (128 + N); every "exit status N" written on a page is one of them."""
    from privpip import errors

    rows = exit_code_rows()
    assert set(rows) == {str(code) for code in errors.EXIT_STATUSES} | {"N", "128 + N"}
    assert len(set(errors.EXIT_STATUSES)) == len(errors.EXIT_STATUSES)
    named = {value for name, value in vars(errors).items()
             if name.isupper() and isinstance(value, int)}
    assert named == set(errors.EXIT_STATUSES)  # a new status is a new row
    for page in PAGES:
        for code in re.findall(r"exit status (\d+)", page.read_text(encoding="utf-8")):
            assert code in rows, (page.name, code)


def test_commands_return_their_status_instead_of_exiting():
    """Commands return their status (privpip.cli's result callback ends click's main with it);
    only privpip.launch and runner.exit_with end the process."""
    import ast

    for path in sorted((ROOT / "privpip" / "cli").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            name = (node.id if isinstance(node, ast.Name) else
                    ast.unparse(node) if isinstance(node, ast.Attribute) else "")
            assert name not in ("SystemExit", "sys.exit", "os._exit", "runner.exit_with"), \
                f"{path.name}:{getattr(node, 'lineno', '?')}: {name}"


def test_readme_docker_recipe_writes_the_netrc_for_its_owner_only():
    """The netrc holds tokens: written under umask 077, as docs/docker.md does."""
    readme = (ROOT / "README.md").read_text()
    lines = [line for line in readme.splitlines() if "env --shell netrc >" in line]
    assert lines and all(line.startswith("(umask 077; ") for line in lines), lines


def test_readme_gives_the_test_duration_and_the_fast_subset():
    readme = (ROOT / "README.md").read_text()
    assert "It takes about 13 minutes on a busy 2-core machine" in readme
    assert '`.venv/bin/python -m pytest -m "not e2e"`' in readme


def test_the_demo_directory_of_the_readme_is_ignored_by_git():
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert blocks[0].startswith("python3 -m venv .demo ")
    assert ".demo/" in (ROOT / ".gitignore").read_text().splitlines()
