"""The published pre-commit hook under the real pre-commit tool, on a staged leaky file."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.unit.test_scan import GITLAB_PAT, GL, HOOKS_FILE, assert_no_secret, git, published_hook


def test_pre_commit_hook_fails_a_leaky_commit(tmp_path: Path) -> None:
    """The real pre-commit tool, offline: the published hook's id and files regex, as a
    `repo: local` hook with `language: system` (language: python would build a virtualenv and
    pip-install privpip from the network; the entry runs this checkout's privpip instead)."""
    import shlex
    import shutil
    import sys

    import yaml

    pre_commit = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
    assert pre_commit, "pre-commit (the test extra) is not installed next to this Python"
    hook = published_hook()
    local = {k: hook[k] for k in ("id", "name", "files", "pass_filenames")}
    local.update(language="system",
                 entry=f"{shlex.quote(sys.executable)} -m privpip scan")
    repo = tmp_path / "project"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / ".pre-commit-config.yaml").write_text(
        yaml.safe_dump({"repos": [{"repo": "local", "hooks": [local]}]}))
    env = {**os.environ, "PYTHONPATH": str(HOOKS_FILE.parent),
           "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache"),
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    subprocess.run([pre_commit, "install"], cwd=repo, env=env, check=True, capture_output=True)
    (repo / "requirements.txt").write_text("requests\n")
    git(repo, "add", "-A")
    ok = subprocess.run(["git", "commit", "-m", "clean"], cwd=repo, env=env,
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (repo / "requirements.txt").write_text(
        f"requests\n--extra-index-url https://__token__:{GITLAB_PAT}@{GL}\n")
    git(repo, "add", "requirements.txt")
    leaky = subprocess.run(["git", "commit", "-m", "leaky"], cwd=repo, env=env,
                           capture_output=True, text=True)
    output = leaky.stdout + leaky.stderr
    assert leaky.returncode != 0, output
    assert "privpip-scan" in output or hook["name"] in output
    assert f"requirements.txt:2: password in URL: a GitLab personal access token " \
           f"(https://__token__:glpa…@{GL}, gitlab)" in output
    assert_no_secret(output)
    assert git(repo, "log", "--format=%s").split() == ["clean"]
