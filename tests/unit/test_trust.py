"""The trust records and the rules of privpip.config.trust (issue 10, finding 1), without the CLI.

The command line flow (untrusted, trusted, changed, CI) is tested in tests/e2e/test_trust_e2e.py.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from privpip.config import Index, trust
from privpip.errors import ConfigError


def test_trust_records_are_private_and_atomic(tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "HOME": str(tmp_path)}
    file = tmp_path / "privpip.toml"
    file.write_text("x = 1\n")
    real, sha = trust.trust(file, env, ())
    records = trust.trust_file(env)
    assert stat.S_IMODE(records.stat().st_mode) == 0o600
    assert stat.S_IMODE(records.parent.stat().st_mode) == 0o700
    assert trust.read_records(env) == {str(real): sha}
    assert trust.is_trusted(file, b"x = 1\n", env)
    assert not trust.is_trusted(file, b"x = 2\n", env)
    assert trust.is_trusted(file, b"x = 2\n", {**env, "CI": "true"})
    assert not trust.is_trusted(file, b"x = 2\n", {**env, "CI": "false"})
    assert [p.name for p in records.parent.iterdir()] == ["trusted.toml"]  # no temp left


def test_broken_records_are_a_config_error(tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "HOME": str(tmp_path)}
    path = trust.trust_file(env)
    path.parent.mkdir(parents=True)
    path.write_text('trusted = ["not", "a", "table"]\n')
    with pytest.raises(ConfigError, match="not in the expected form"):
        trust.read_records(env)
    path.write_text('trusted = {\n')
    with pytest.raises(ConfigError, match="cannot read the trust records"):
        trust.read_records(env)
    path.unlink()  # an older privpip's file, as broken
    path.with_name("trusted.json").write_text('{"trusted": ["not", "a", "table"]}')
    with pytest.raises(ConfigError, match="not in the expected form"):
        trust.read_records(env)


def test_search_stops_at_the_repository_root(tmp_path):
    repo = tmp_path / "clone"
    (repo / ".git").mkdir(parents=True)
    (repo / "src").mkdir()
    assert trust.repository_root(repo / "src") == repo
    assert trust.search_dirs(repo / "src") == [repo / "src", repo]
    (repo / ".git").rmdir()
    (repo / ".git").write_text("gitdir: elsewhere\n")  # a worktree or submodule: .git is a file
    assert trust.repository_root(repo / "src") == repo


def test_restrict_drops_only_what_runs_or_names_a_variable(tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "HOME": str(tmp_path)}
    path = tmp_path / "privpip.toml"
    path.write_text("# stands for the file\n")
    plain = Index("plain", "https://a.example/simple/")
    runs = Index("runs", "https://b.example/simple/", token_command=("aws", "x"),
                 token_command_is_default=True)
    names = Index("names", "https://c.example/simple/", token_env=("AWS_SECRET_ACCESS_KEY",))
    kept, _, _ = trust.restrict(path, [plain, runs, names], [], env)
    assert kept[0] == plain
    assert kept[1].token_command == () and not kept[1].token_command_is_default
    assert kept[2].token_env == ()
    (why,) = trust.untrusted_sources(runs)  # for the "no credential; tried:" list
    assert "not trusted" in why[1] and "privpip trust" in why[1]
    trust.trust(path, env, ())
    assert trust.restrict(path, [plain, runs, names], [], env)[0] == [plain, runs, names]
    # The user's own file is theirs: never restricted.
    path.write_text("# changed\n")
    assert trust.restrict(path, [runs], [], env, user_file=path)[0] == [runs]


def test_same_name_needs_the_same_url(tmp_path):
    project, user = tmp_path / "privpip.toml", tmp_path / "user.toml"
    mine = Index("corp", "https://corp.example/simple/")
    trust.check_same_urls(project, [mine], user, [mine._replace(url="https://CORP.example/simple")])
    with pytest.raises(ConfigError, match="your own config .*user.toml names 'corp'") as info:
        trust.check_same_urls(project, [mine._replace(url="https://evil.example/simple/")],
                              user, [mine])
    assert "may not take over an index name of yours" in (info.value.hint or "")


def test_description_escapes_terminal_control_characters():
    index = Index("corp", "https://h.example/simple/", token_command=("sh", "-c", "x\x1b[2Ky"))
    text = trust.describe_untrusted(Path("privpip.toml"), [index])
    assert "\x1b" not in text
    assert "\\x1b[2K" in text


def test_privpips_own_edit_keeps_a_trusted_file_trusted(tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "HOME": str(tmp_path)}
    path = tmp_path / "privpip.toml"
    path.write_text("# one\n")
    assert not trust.keep_after_edit(path, b"# one\n", env, ())  # never trusted: stays so
    path.write_text("# two\n")
    assert not trust.is_trusted(path, b"# two\n", env)
    trust.trust(path, env, ())
    path.write_text("# three\n")
    assert trust.keep_after_edit(path, b"# two\n", env, ())
    assert trust.is_trusted(path, b"# three\n", env)
    path.write_text("# four\n")  # changed by someone else in between: not carried over
    assert not trust.keep_after_edit(path, b"# two\n", env, ())


def test_pinned_files_are_the_argv_words_inside_the_project(tmp_path):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "sub" / "scripts").mkdir(parents=True)
    script = repo / "sub" / "scripts" / "get.sh"
    script.write_text("echo t0ken\n")
    (tmp_path / "outside.sh").write_text("echo x\n")
    config = repo / "sub" / "privpip.toml"
    pinned = trust.pinned_files(config, [("sh", "scripts/get.sh", "../../outside.sh",
                                          "/etc/passwd", "-c", "sh scripts/other.sh")])
    assert pinned[str(script)] == trust.digest(b"echo t0ken\n")
    assert pinned[str(repo / "sub" / "sh")] is None  # absent now: pinned as absent
    assert str(tmp_path / "outside.sh") not in pinned and "/etc/passwd" not in pinned
    # A word that is a shell string is one (absent) path, not the script inside it.
    assert str(repo / "sub" / "scripts" / "other.sh") not in pinned


def test_a_changed_or_new_named_file_untrusts(tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "HOME": str(tmp_path)}
    config = tmp_path / "privpip.toml"
    config.write_text("# stands for the file\n")
    script = tmp_path / "get.sh"
    script.write_text("echo t0ken\n")
    trust.trust(config, env, [("sh", "get.sh", "helper.sh")])
    assert trust.file_is_trusted(config, env)
    script.write_text("echo t0ken; curl evil\n")
    assert not trust.file_is_trusted(config, env)
    script.write_text("echo t0ken\n")
    assert trust.file_is_trusted(config, env)
    (tmp_path / "helper.sh").write_text("appeared later\n")
    assert not trust.file_is_trusted(config, env)


def test_a_link_is_trusted_under_its_own_path(tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "HOME": str(tmp_path)}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    target = tmp_path / "a" / "privpip.toml"
    target.write_text("# x\n")
    link = tmp_path / "b" / "privpip.toml"
    link.symlink_to(target)
    trust.trust(target, env, ())
    assert trust.file_is_trusted(target, env)
    assert not trust.file_is_trusted(link, env)
    assert trust.record_key(link) == str(link)


def test_trust_is_decided_on_the_bytes_parsed_not_on_a_second_read(tmp_path, monkeypatch):
    """A file changed between parsing and the trust check (a `git pull` mid-run, a racing
    process) must not lend the trusted version's standing to what was parsed."""
    from privpip.config import discovery, schema

    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
           "HOME": str(tmp_path)}
    path = tmp_path / "privpip.toml"
    trusted = b'[[index]]\nname = "corp"\nurl = "https://corp.example/simple/"\n'
    parsed = (b'[[index]]\nname = "corp"\nurl = "https://evil.example/simple/"\n'
              b'token-command = ["sh", "-c", "echo stolen"]\n')
    path.write_bytes(trusted)
    trust.trust(path, env, ())
    path.write_bytes(parsed)
    real_read = schema.read_file

    def read_then_swap(file: Path, env: object = None) -> schema.Parsed:
        found = real_read(file, env)  # type: ignore[arg-type]
        file.write_bytes(trusted)  # the trusted content is back before trust is checked
        return found

    monkeypatch.setattr(schema, "read_file", read_then_swap)
    (index,) = discovery.load(tmp_path, env).indexes
    assert index.url == "https://evil.example/simple/"
    assert index.token_command == ()  # untrusted: the command it names does not run
    assert not trust.file_is_trusted(path, env)  # an exported token is not sent there
    # The control: the trusted content, parsed, is trusted.
    monkeypatch.setattr(schema, "read_file", real_read)
    trust._PARSED.clear()
    (index,) = discovery.load(tmp_path, env).indexes
    assert index.url == "https://corp.example/simple/" and trust.file_is_trusted(path, env)


def test_records_of_an_older_privpip_are_read_and_moved_on_the_next_write(tmp_path):
    import json

    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "HOME": str(tmp_path)}
    project = tmp_path / "privpip.toml"
    project.write_text("x = 1\n")
    legacy = trust.trust_file(env).with_name("trusted.json")
    legacy.parent.mkdir(parents=True)
    key = trust.record_key(project)
    gone = str(tmp_path / "scripts" / "token.sh")
    legacy.write_text(json.dumps({"version": 1, "trusted": {
        key: {"sha256": trust.digest(b"x = 1\n"), "files": {gone: None}}}}))
    assert trust.read_records(env) == {key: {"sha256": trust.digest(b"x = 1\n"),
                                             "files": {gone: None}}}
    assert trust.is_trusted(project, b"x = 1\n", env)  # nobody has to trust again
    other = tmp_path / "other.toml"
    other.write_text("y = 2\n")
    trust.trust(other, env, ())
    assert sorted(p.name for p in legacy.parent.iterdir()) == ["trusted.toml"]
    records = trust.read_records(env)
    assert records[key]["files"] == {gone: None}  # "absent" survives TOML, which has no null
    assert trust.is_trusted(project, b"x = 1\n", env) and trust.file_is_trusted(other, env)


def test_a_path_that_is_not_utf8_is_refused_not_mangled(tmp_path):
    import os

    from privpip.errors import UsageError

    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "HOME": str(tmp_path)}
    odd = tmp_path / os.fsdecode(b"dir-\xff")
    odd.mkdir()
    project = odd / "privpip.toml"
    project.write_text("x = 1\n")
    with pytest.raises(UsageError, match="not valid UTF-8"):
        trust.trust(project, env, ())
    assert not trust.trust_file(env).exists()
