"""Issue 24's small ones: a suggestion for a mistyped command, the way out of "no private
index is configured", `scan --user` when clean. Real CLI in a child process."""

from __future__ import annotations

import re

from tests.helpers import privpip


def test_a_mistyped_command_gets_the_closest_one(tmp_path):
    result = privpip("instal", "corp-lib", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == \
        "Error: No such command 'instal' (did you mean 'install'?)."
    result = privpip("stauts", cwd=tmp_path)
    assert result.stderr.splitlines()[-1] == \
        "Error: No such command 'stauts' (did you mean 'status'?)."
    # Nothing close: click's own sentence; a hidden command is never suggested.
    result = privpip("frobnicate", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == "Error: No such command 'frobnicate'."
    assert "git-credential" not in privpip("git-credentia", cwd=tmp_path).stderr


def test_no_index_configured_names_init_and_the_user_file(tmp_path):
    result = privpip("status", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "privpip: error: no private index is configured\n"
        "  hint: for this project: `privpip init`, then `privpip index add NAME URL`; for every "
        "directory: `privpip index add --user NAME URL`; or pass --config PATH\n")


def test_scan_user_says_so_when_clean(tmp_path):
    result = privpip("scan", "--user", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    # The count includes the machine's own pip files (/etc/pip.conf ...), if any.
    assert re.fullmatch(r"privpip: no credential found in your pip, uv, Poetry and twine files "
                        r"\(\d+ read\) or their variables\n", result.stderr), result.stderr
    # A project scan stays silent when clean (what a pre-commit hook wants).
    project = privpip("scan", cwd=tmp_path)
    assert (project.returncode, project.stdout, project.stderr) == (0, "", "")
