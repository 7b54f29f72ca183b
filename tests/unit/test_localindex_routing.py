"""The local index's page model and routing rules, on recorded upstream pages (no network)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from privpip.core.secret import Secret
from privpip.localindex import pages, routing
from privpip.localindex.pages import File, Page
from privpip.localindex.routing import Problem, Refusal, Upstream

DATA = Path(__file__).resolve().parents[1] / "data" / "pages"
H = "29a7cba98cf347075f2361d8cae0843f62cef50507b972ac87211c9d2ef42528"
M = "5f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0"
PIP_ACCEPT = ("application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, "
              "text/html; q=0.01")


def load(name: str, url: str) -> Page:
    body = (DATA / name).read_bytes()
    kind = pages.JSON_TYPE if name.endswith(".json") else "text/html"
    return pages.parse(body, kind, url, "corp-dep")


def test_gitlab_page() -> None:
    page = load("gitlab.html", "https://gitlab.example.com/api/v4/projects/42/packages/pypi/simple/corp-dep/")
    assert [f.filename for f in page.files] == ["corp_dep-1.0-py3-none-any.whl", "corp-dep-1.0.tar.gz"]
    wheel = page.files[0]
    assert wheel.url == f"https://gitlab.example.com/api/v4/projects/42/packages/pypi/files/{H}/corp_dep-1.0-py3-none-any.whl"
    assert wheel.hashes == (("sha256", H),)
    assert wheel.requires_python == ">=3.8"
    assert wheel.yanked is False and wheel.core_metadata is None
    assert page.api_version == "1.0" and page.tracks == () and page.name == "corp-dep"


def test_pypiserver_page_resolves_root_relative_links() -> None:
    page = load("pypiserver.html", "http://127.0.0.1:8080/simple/corp-dep/")
    assert page.files == (File("corp_dep-1.0-py3-none-any.whl",
                               "http://127.0.0.1:8080/packages/corp_dep-1.0-py3-none-any.whl",
                               (("sha256", H),)),)


def test_devpi_page_relative_links_and_yanked_reason() -> None:
    page = load("devpi.html", "https://devpi.example.com/corp/prod/+simple/corp-dep/")
    wheel, sdist = page.files
    assert wheel.url == "https://devpi.example.com/corp/prod/+f/29a/7cba98cf34707/corp_dep-1.0-py3-none-any.whl"
    assert sdist.yanked == 'broken "build" <see #12>'
    assert sdist.hashes == (("sha256", M),)
    assert page.api_version == "1.1"


def test_artifactory_page_metadata_flags_gpg_and_bare_yank() -> None:
    page = load("artifactory.html", "https://af.example.com/artifactory/api/pypi/pypi-virtual/simple/corp-dep/")
    wheel, sdist = page.files
    assert wheel.url == ("https://af.example.com/artifactory/api/pypi/pypi-virtual/packages/packages/"
                         "29/a7/cba98cf34707/corp_dep-1.0-py3-none-any.whl")
    assert wheel.requires_python == ">=3.8,<4"
    assert wheel.core_metadata == (("sha256", M),) == wheel.dist_info_metadata
    assert wheel.gpg_sig is False
    assert sdist.yanked is True
    assert sdist.hashes == (("md5", "0123456789abcdef0123456789abcdef"),)


def test_pep691_page() -> None:
    page = load("pep691.json", "https://pypi.example.org/simple/corp-dep/")
    wheel, sdist = page.files
    assert wheel.hashes == (("sha256", H), ("blake2b_256", "0123abcd"))
    assert wheel.core_metadata == (("sha256", M),) == wheel.dist_info_metadata
    assert wheel.size == 975 and wheel.upload_time == "2024-05-01T10:00:00.123456Z"
    assert wheel.extra == (("provenance", "null"),)
    assert sdist.url == "https://pypi.example.org/packages/corp-dep-0.9.tar.gz"
    assert sdist.yanked == "Had a vulnerability" and sdist.gpg_sig is True
    assert page.tracks == ("https://upstream.example.org/simple/corp-dep/",)
    assert page.versions == ("0.9", "1.0") and page.api_version == "1.2"


@pytest.mark.parametrize("name", ["gitlab.html", "pypiserver.html", "devpi.html",
                                  "artifactory.html", "pep691.json"])
def test_render_and_parse_again_keeps_every_file_attribute(name: str) -> None:
    page = load(name, "https://idx.example.com/simple/corp-dep/")
    again_json = pages.parse_json(pages.render_json(page, "corp-dep"), "https://other.example/")
    assert again_json.files == page.files
    again_html = pages.parse_html(pages.render_html(page, "corp-dep"), "https://other.example/")
    # HTML carries one hash, no size/upload-time/extra keys: all else survives.
    simple = tuple(replace(f, hashes=(f.hashes[0],) if f.hashes else (), size=None,
                           upload_time=None, extra=()) for f in page.files)
    assert again_html.files == simple


def test_html_rendering_escapes_every_value() -> None:
    nasty = File('x-1.0.tar.gz', 'https://h.example/x-1.0.tar.gz?a=1&b="2"', (("sha256", "ab"),),
                 requires_python="<4,>=3.8", yanked='"><script>alert(1)</script>')
    html = pages.render_html(Page("x", (nasty,)), 'x"<y>')
    assert "<script>" not in html and '"><' not in html.replace('"><br>', "")
    assert pages.parse_html(html, "https://h.example/").files == (nasty,)


def test_html_filename_comes_from_the_url_like_pip() -> None:
    html = '<a href="https://h.example/f/corp_dep-1.0.tar.gz#sha256=ab">corp/prod/whatever</a>'
    assert pages.parse_html(html, "https://h.example/").files[0].filename == "corp_dep-1.0.tar.gz"


def test_bad_pages_raise_page_error() -> None:
    with pytest.raises(pages.PageError):
        pages.parse_json('{"meta": {"api-version": "2.0"}, "files": []}', "https://h.example/")
    with pytest.raises(pages.PageError):
        pages.parse_json('{"files": [{"url": "x"}]}', "https://h.example/")
    with pytest.raises(pages.PageError):
        pages.parse_json("<html>", "https://h.example/")


@pytest.mark.parametrize(("accept", "kind"), [
    (PIP_ACCEPT, "json"),
    (None, "html"),
    ("text/html", "html"),
    ("application/vnd.pypi.simple.v1+html, application/vnd.pypi.simple.v1+json;q=0.5", "html"),
    ("application/vnd.pypi.simple.latest+json", "json"),
    ("application/vnd.pypi.simple.v1+json;q=0", "html"),
    ("image/png", "html"),
])
def test_format_follows_accept(accept: str | None, kind: str) -> None:
    assert pages.choose_format(accept)[0] == kind


# --- routing -----------------------------------------------------------------------------------

CORP = Upstream("corp", "https://git.example.com/api/v4/projects/1/packages/pypi/simple",
                owns=("Corp_*", "special.lib"))
TEAM = Upstream("team", "https://git.example.com/api/v4/projects/2/packages/pypi/simple/",
                owns=("corp-team-*",))
PUBLIC = Upstream("public", "https://mirror.example.org/simple/")


def page(upstream: Upstream, *filenames: str, **meta: object) -> Page:
    files = tuple(File(f, f"{upstream.url}../files/{f}", (("sha256", f"{f}-hash"),))
                  for f in filenames)
    return Page("corp-dep", files, url=upstream.project_url("corp-dep"), **meta)  # type: ignore[arg-type]


def test_ownership_normalizes_names_and_patterns() -> None:
    ups = [CORP, TEAM, PUBLIC]
    assert routing.owner("corp-dep", ups) is CORP
    assert routing.owner("Corp.Dep", ups) is CORP
    assert routing.owner("SPECIAL_LIB", ups) is CORP
    assert routing.owner("corp-team-x", ups) is CORP  # first owner in config order wins
    assert routing.owner("corp-team-x", [TEAM, CORP]) is TEAM
    assert routing.owner("corpdep", ups) is None
    assert routing.owner("requests", ups) is None
    assert routing.upstreams_for("corp-dep", ups) == (CORP,)
    assert routing.upstreams_for("requests", ups) == (CORP, TEAM, PUBLIC)


def test_upstream_urls() -> None:
    assert CORP.url.endswith("/simple/")
    assert CORP.project_url("Corp_Dep") == "https://git.example.com/api/v4/projects/1/packages/pypi/simple/corp-dep/"
    with pytest.raises(ValueError, match="credential"):
        Upstream("x", "https://user:pw@h.example/simple/")
    with pytest.raises(ValueError, match="http"):
        Upstream("x", "file:///simple/")


def test_names() -> None:
    assert routing.is_valid_name("Corp_Dep.x-1")
    for bad in ("", "-a", "a/b", "..", "a b", "a%2fb"):
        assert not routing.is_valid_name(bad)


def test_merge_in_config_order_first_filename_wins() -> None:
    a = page(CORP, "x-1.0.tar.gz", "x-2.0.tar.gz")
    b = page(PUBLIC, "x-2.0.tar.gz", "x-3.0.tar.gz")
    merged = routing.combine("corp-dep", [(CORP, a), (TEAM, None), (PUBLIC, b)])
    assert isinstance(merged, Page)
    assert [f.filename for f in merged.files] == ["x-1.0.tar.gz", "x-2.0.tar.gz", "x-3.0.tar.gz"]
    assert merged.files[1] is a.files[1]
    assert routing.combine("corp-dep", [(CORP, None), (PUBLIC, None)]) is None


def test_merged_api_version_claims_1_1_only_when_json_can_carry_it() -> None:
    full = replace(page(PUBLIC, "x-1.0.tar.gz"), api_version="1.1", versions=("1.0",))
    full = full.with_files(tuple(replace(f, size=3) for f in full.files))
    merged = routing.merge("x", [full])
    assert (merged.api_version, merged.versions) == ("1.1", ("1.0",))
    merged = routing.merge("x", [full, page(CORP, "x-2.0.tar.gz")])
    assert (merged.api_version, merged.versions) == ("1.0", None)


# PEP 708 ---------------------------------------------------------------------------------------

def test_pep708_no_metadata_merges() -> None:
    assert routing.may_merge([(CORP, page(CORP, "a")), (PUBLIC, page(PUBLIC, "b"))], "corp-dep") is None


def test_pep708_tracks_the_owning_page_merges() -> None:
    mirror = page(CORP, "a", tracks=("https://MIRROR.example.org:443/simple/corp-dep",))
    assert routing.may_merge([(CORP, mirror), (PUBLIC, page(PUBLIC, "b"))], "corp-dep") is None


def test_pep708_two_mirrors_tracking_the_same_project_merge() -> None:
    tracked = ("https://elsewhere.example/simple/corp-dep/",)
    found = [(CORP, page(CORP, "a", tracks=tracked)), (PUBLIC, page(PUBLIC, "b", tracks=tracked))]
    assert routing.may_merge(found, "corp-dep") is None


def test_pep708_tracks_something_else_is_refused() -> None:
    mirror = page(CORP, "a", tracks=("https://elsewhere.example/simple/corp-dep/",))
    found = [(CORP, mirror), (PUBLIC, page(PUBLIC, "b"))]
    reason = routing.may_merge(found, "corp-dep")
    assert reason is not None and "corp, public" in reason
    result = routing.combine("corp-dep", found)
    assert isinstance(result, Refusal) and result.indexes == ("corp", "public")


def test_pep708_alternate_locations_agreeing_merge() -> None:
    both = (CORP.project_url("corp-dep"), PUBLIC.project_url("corp-dep"))
    found = [(CORP, page(CORP, "a", alternate_locations=both[1:])),  # own URL implied
             (PUBLIC, page(PUBLIC, "b", alternate_locations=both))]
    assert routing.may_merge(found, "corp-dep") is None


def test_pep708_alternate_locations_one_sided_is_refused() -> None:
    # A squatter cannot join a project by naming it, nor by staying silent.
    owner_side = page(CORP, "a", alternate_locations=(CORP.project_url("corp-dep"),))
    squatter = page(PUBLIC, "b", alternate_locations=(CORP.project_url("corp-dep"),))
    assert routing.may_merge([(CORP, owner_side), (PUBLIC, page(PUBLIC, "b"))], "corp-dep")
    assert routing.may_merge([(CORP, page(CORP, "a")), (PUBLIC, squatter)], "corp-dep")
    assert routing.may_merge([(CORP, owner_side), (PUBLIC, squatter)], "corp-dep")


def test_rewrite_points_files_at_the_local_server_with_stable_ids() -> None:
    original = load("gitlab.html", "https://gitlab.example.com/api/v4/projects/42/packages/pypi/simple/corp-dep/")
    local, targets = routing.rewrite(original, CORP)
    again, _ = routing.rewrite(original, CORP)
    assert local == again
    for old, new in zip(original.files, local.files):
        assert new == replace(old, url=new.url)
        _, files, index, file_id, filename = new.url.split("/")
        assert (files, index, filename) == ("files", "corp", old.filename)
        assert targets[file_id] == routing.Target("corp", old.url, old.filename)
    assert "gitlab.example.com" not in json.dumps(pages.render_json(local, "corp-dep"))


def test_explicit_upstreams_are_asked_only_for_their_own_names() -> None:
    corp = CORP._replace(explicit=True)
    assert Upstream("x", "https://x.example/simple/", explicit=True).explicit is False  # owns nothing
    assert Upstream("x", "https://x.example/simple/", owns=("a",), explicit=True).explicit
    assert routing.upstreams_for("corp-dep", [corp, TEAM, PUBLIC]) == (corp,)
    assert routing.upstreams_for("requests", [corp, TEAM, PUBLIC]) == (TEAM, PUBLIC)


FAILED = Problem("corp", "https://corp.example/simple/b-pkg/", "answered 503", "try later")
ASKED = (TEAM, CORP, PUBLIC)


def test_first_index_serves_the_first_page_in_order_without_waiting_for_the_rest() -> None:
    first, later = page(TEAM, "x-1.0.tar.gz"), page(PUBLIC, "x-99.0.tar.gz")
    assert routing.answer("x", ASKED, [first]) == routing.Answer(200, first)
    assert routing.answer("x", ASKED, [None]) is None  # the next one in order decides
    assert routing.answer("x", ASKED, [None, None]) is None
    assert routing.answer("x", ASKED, [None, None, later]) == routing.Answer(200, later)
    # A later index failing does not matter once an earlier one has the name.
    assert routing.answer("x", ASKED, [first, FAILED]) == routing.Answer(200, first)
    assert routing.answer("x", ASKED, [None, None, None]) == routing.Answer(
        404, None, "not found on any index")


def test_first_index_withholds_a_page_when_an_earlier_index_failed() -> None:
    later = page(PUBLIC, "x-99.0.tar.gz")
    assert routing.answer("b-pkg", ASKED, [None, FAILED]) is None  # does a later one have it?
    verdict = routing.answer("b-pkg", ASKED, [None, FAILED, later])
    assert verdict is not None and (verdict.status, verdict.page) == (502, None)
    assert verdict.message == ("index 'corp' failed, so privpip withheld this page (it comes "
                               "before 'public', which has the name)")
    assert verdict.problem == routing.withheld("b-pkg", ["corp"], "public")
    assert verdict.problem.describe() == (
        "index 'corp' could not be asked for 'b-pkg', so its page was withheld although "
        "'public' has it: it comes first, and private first means its own 'b-pkg' would win; "
        "if it does not hold 'b-pkg', declare the packages it does hold (packages = [...] in "
        "its [[index]] table) so that other names skip it; or leave it out of this run: "
        "--skip-index corp")
    assert "add 'b-pkg' to the packages" not in verdict.problem.describe()
    # Found nowhere else: the failing index's own problem says it all.
    assert routing.answer("b-pkg", ASKED, [None, FAILED, None]) == routing.Answer(
        502, None, "index 'corp' failed; privpip names the problem when pip exits")


def test_unsafe_best_match_waits_for_every_index_and_merges() -> None:
    a, b = page(TEAM, "x-1.0.tar.gz"), page(PUBLIC, "x-99.0.tar.gz")
    merge = routing.UNSAFE_BEST_MATCH
    assert routing.answer("x", ASKED, [a], merge) is None
    verdict = routing.answer("x", ASKED, [a, None, b], merge)
    assert verdict is not None and verdict.status == 200 and verdict.page is not None
    assert [f.filename for f in verdict.page.files] == ["x-1.0.tar.gz", "x-99.0.tar.gz"]
    verdict = routing.answer("b-pkg", ASKED, [a, FAILED, b], merge)
    assert verdict is not None and verdict.status == 502
    assert verdict.problem is not None and verdict.problem.describe().startswith(
        "index 'corp' could not be asked for 'b-pkg', so its page was withheld although 'team', "
        "'public' answered: a page merged without it could pick a copy squatted elsewhere; "
        "if it does not hold 'b-pkg'")
    both = routing.withheld("x", ["a", "b"], None, merged=True)
    assert both.index == "a, b" and "without them" in both.what and "although" not in both.what
    assert "--skip-index a --skip-index b" in both.hint


def test_state_fails_closed_and_says_which_index_withheld_the_page():
    from privpip.localindex.fetch import State, UpstreamFailed

    corp = Upstream("corp", "https://corp.example/simple/", owns=("corp-*",))
    other = Upstream("other", "https://other.example/simple/")
    state = State((corp, other), "u", Secret("p"), 5.0, lambda _line: None)
    broken = Problem("corp", "https://corp.example/simple/b-pkg/", "answered 401 Unauthorized",
                     "privpip login corp")

    def fetch(upstream, name):
        if upstream.name == "corp":
            raise UpstreamFailed(broken)
        return Page(name=name, files=(File(name + "-1.0.tar.gz", "https://x/f"),))

    state.fetch_page = fetch  # type: ignore[method-assign]
    try:
        status, page, message = state.project("b-pkg")
        assert (status, page) == (502, None)
        assert message.startswith("index 'corp' failed, so privpip withheld this page")
        assert state.problems == [broken, routing.withheld("b-pkg", ["corp"], "other")]
        # An owned name asks its owner alone: its own problem says it all.
        assert state.project("corp-x")[0] == 502
        assert state.problems == [broken, routing.withheld("b-pkg", ["corp"], "other")]
    finally:
        state.executor.shutdown()
        state.fetcher.close()
