"""Config loading under fuzzing: any document gives a valid config or a ConfigError, nothing else.

In-process (privpip.config.schema: parse_text, read_file) for speed, and a few documents through the
real CLI to check exit status 2 and that no traceback is printed.
"""

from __future__ import annotations

import datetime
import tempfile
from pathlib import Path

import tomli_w
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from privpip import config
from privpip.config import fields, schema
from privpip.errors import ConfigError
from tests.helpers import privpip
from tests.security.conftest import budget

KEYS = ["name", "url", "username", "default", "token-env", "auth", "nmae", "URL", ""]
URLS = ["https://pkgs.example.com/simple/", "http://127.0.0.1:8080/simple/",
        "http://pkgs.example.com/simple/", "https://u:p@h.example/simple/",
        "https://[::1]:99999/simple/", "https://[zz/simple/", "ftp://h/", "https://h/?q#f",
        "https://h.example:port/simple/", "https://\u212a.example/simple/", "//h/", ""]

scalars = st.one_of(
    st.text(max_size=30), st.sampled_from(URLS), st.booleans(),
    st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=True),
    st.datetimes(), st.dates(), st.times(),
    st.datetimes(timezones=st.just(datetime.timezone.utc)),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                               max_size=4),
    max_leaves=12,
)
index_tables = st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), values, max_size=7)
documents = st.one_of(
    st.fixed_dictionaries({"index": st.lists(index_tables, max_size=4)}),
    st.dictionaries(st.sampled_from(["index", "indexes", "tool"]) | st.text(max_size=8), values,
                    max_size=3),
)

VALID = """\
[[index]]
name = "corp"
url = "https://pkgs.example.com/simple/"
default = true
token-env = ["CI_JOB_TOKEN", "CORP_TOKEN"]

[[index]]
name = "local.mirror"
url = "http://127.0.0.1:3141/simple/"
username = "bot"
auth = false
"""


def outcome(text: str, pyproject: bool = False) -> list[config.Index] | ConfigError:
    try:
        indexes = schema.parse_text(text, "privpip.toml", pyproject=pyproject).indexes
    except ConfigError as exc:
        assert exc.message and "\n" not in exc.where
        return exc
    assert all(isinstance(i, config.Index) for i in indexes)
    for index in indexes:  # what the rest of privpip relies on
        assert fields.NAME.match(index.name) and index.url.startswith(("https://", "http://"))
        assert index.host and index.netrc_host
    return indexes


def toml(document: dict) -> str:
    try:
        return tomli_w.dumps(document)
    except (TypeError, ValueError):  # NaN in some versions, mixed arrays in old ones
        assume(False)
        raise


@settings(max_examples=budget(300, 20000))
@given(documents)
def test_generated_documents(document):
    outcome(toml(document))


@settings(max_examples=budget(150, 5000))
@given(documents)
def test_generated_pyproject_tables(document):
    text = toml({"tool": {"privpip": document}, "project": {"name": "x"}})
    outcome(text, pyproject=True)


@settings(max_examples=budget(100, 5000))
@given(values)
def test_tool_and_privpip_of_any_type_in_pyproject(value):
    outcome(toml({"tool": value}), pyproject=True)
    outcome(toml({"tool": {"privpip": value}}), pyproject=True)


@st.composite
def mutated(draw) -> str:
    """VALID with a few random edits: deletions, insertions, duplicated or swapped lines."""
    text = VALID
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "insert", "duplicate", "swap", "replace"]))
        at = draw(st.integers(0, len(text)))
        if kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 20)):]
        elif kind == "insert":
            text = text[:at] + draw(st.text(max_size=12)) + text[at:]
        elif kind == "replace":
            char = draw(st.sampled_from(list('[]="\'\\\n#,{}. ') + ["\x00", "\ufeff", "é"]))
            text = text[:at] + char + text[at + 1:]
        else:
            lines = text.splitlines(keepends=True)
            n = draw(st.integers(0, len(lines) - 1))
            if kind == "duplicate":
                lines.insert(n, lines[n])
            else:
                m = draw(st.integers(0, len(lines) - 1))
                lines[n], lines[m] = lines[m], lines[n]
            text = "".join(lines)
    return text


@settings(max_examples=budget(400, 20000))
@given(mutated())
@example(VALID)
def test_mutated_valid_documents(text):
    outcome(text)
    outcome("[tool.privpip]\n" + text.replace("[[index]]", "[[tool.privpip.index]]"),
            pyproject=True)


@settings(max_examples=budget(200, 10000))
@given(st.binary(max_size=200) | mutated().map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_files_of_any_bytes(data):
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("privpip.toml", "pyproject.toml"):
            path = Path(tmp) / name
            path.write_bytes(data)
            try:
                schema.read_file(path)
            except ConfigError:
                pass


@settings(max_examples=budget(6, 200), deadline=None)
@given(mutated() | documents.map(toml))
def test_through_the_cli_a_bad_config_is_exit_2_without_traceback(text):
    assume(isinstance(outcome(text), ConfigError))
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "privpip.toml").write_text(text, encoding="utf-8", errors="surrogatepass")
        result = privpip("--no-input", "env", "--shell", "bash", cwd=tmp)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("privpip: error: "), result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
