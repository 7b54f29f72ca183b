"""The one ordered list of credential sources, and every text that states the order."""

from __future__ import annotations

import re

from privpip import credentials
from privpip.cli import cli
from privpip.config.edit import starter
from tests.helpers import TESTS


def words(text: str) -> str:
    return " ".join(text.split())


def test_help_states_the_resolvers_order():
    phrases = [source.help for source in credentials.INDEX_SOURCES]
    sentence = ", ".join(phrases[:-1]) + ", or " + phrases[-1]
    assert "in order: " + sentence + "." in words(cli.help or "")


def test_starter_file_lists_every_source_in_order():
    for pyproject in (False, True):
        text = starter(pyproject)
        numbered = re.findall(r"^#   (\d)\. ", text, re.MULTILINE)
        assert numbered == [str(n) for n in range(1, len(credentials.INDEX_SOURCES) + 1)]
        flat = words(text.replace("#", " "))
        positions = [flat.index(words(s.starter)) for s in credentials.INDEX_SOURCES]
        assert positions == sorted(positions)


def test_docs_list_every_source_in_order():
    readme = (TESTS.parent / "docs" / "credentials.md").read_text(encoding="utf-8")
    section = readme.split("## Where a token comes from", 1)[1].split("\n## ", 1)[0]
    items = re.findall(r"^(\d)\. (.*?)(?=^\d\. |^\S|\Z)", section, re.MULTILINE | re.DOTALL)
    assert len(items) == len(credentials.INDEX_SOURCES)
    for (number, text), source in zip(items, credentials.INDEX_SOURCES):
        assert source.readme in words(text), (number, source.kind)


def test_git_hosts_share_the_first_sources():
    assert credentials.GIT_SOURCES[:3] == credentials.INDEX_SOURCES[:3]
    assert [s.kind for s in credentials.INDEX_SOURCES] == [
        "env", "token-env", "keyring", "file", "token-command", "ci-job-token", "prompt"]
