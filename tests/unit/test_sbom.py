"""privpip.checks.sbom: the CycloneDX document, validated against the schema cyclonedx-python-lib
ships; and the one-line error without the library."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from privpip.checks.origins import Origin
from tests.helpers import bare_python

cyclonedx = pytest.importorskip("cyclonedx", reason="cyclonedx-python-lib is in the test extra")

SHA = "ab" * 32
ORIGINS = [
    Origin("Corp_Dep", "1.0", "index", "corp", "https://pkgs.example.com/simple/",
           "https://pkgs.example.com/files/corp_dep-1.0-py3-none-any.whl", SHA, None, None),
    Origin("requests", "2.32.3", "index", "public", "https://pypi.org/simple/",
           "https://files.pythonhosted.org/x/requests-2.32.3-py3-none-any.whl", SHA, None, None),
    Origin("corp-x", "2.0", "unknown", None, None, None, None, "installed by pip without ...",
           "owned by index corp (packages), but nothing records that it came from there"),
]


def test_components_with_purl_hashes_and_repository_url():
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    from privpip.checks import sbom

    text = sbom.cyclonedx(ORIGINS)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    document = json.loads(text)
    components = {c["name"]: c for c in document["components"]}
    corp = components["Corp_Dep"]
    assert corp["purl"] == ("pkg:pypi/corp-dep@1.0?repository_url=https://pkgs.example.com/"
                            "simple/")
    assert corp["hashes"] == [{"alg": "SHA-256", "content": SHA}]
    assert corp["externalReferences"] == [{
        "type": "distribution",
        "url": "https://pkgs.example.com/files/corp_dep-1.0-py3-none-any.whl"}]
    assert {p["name"]: p["value"] for p in corp["properties"]} == {
        "privpip:origin": "index", "privpip:index": "corp"}
    assert components["requests"]["purl"] == "pkg:pypi/requests@2.32.3"  # PyPI: the default
    unknown = components["corp-x"]
    assert unknown["purl"] == "pkg:pypi/corp-x@2.0"
    assert "hashes" not in unknown and "externalReferences" not in unknown
    assert {p["name"] for p in unknown["properties"]} == {
        "privpip:origin", "privpip:why", "privpip:finding"}


def test_without_the_library_a_one_line_error(tmp_path, make_venv):
    python, env = bare_python(tmp_path, make_venv)
    result = subprocess.run([python, "-m", "privpip", "audit", "--installed", "--python",
                             python, "--format", "cyclonedx"], cwd=tmp_path,
                            env={**os.environ, **env}, capture_output=True, text=True,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(
        "privpip: error: --format cyclonedx needs the cyclonedx-python-lib package")
    assert "pip install 'privpip[sbom]'" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
