"""`privpip audit --installed --format cyclonedx`: the audit as a CycloneDX JSON SBOM, written
with cyclonedx-python-lib (the optional extra ``privpip[sbom]``) rather than by hand.

Each component carries its purl (``pkg:pypi/NAME@VERSION``, with the ``repository_url``
qualifier the purl spec defines for an index other than PyPI), the SHA-256 of the file it was
installed from, and that file's URL as a ``distribution`` reference; privpip's own findings
are ``privpip:*`` properties.
"""

from __future__ import annotations

from collections.abc import Sequence

from privpip.checks.origins import Origin
from privpip.core import identity
from privpip.errors import UsageError

PYPI = "https://pypi.org/simple/"
HINT = ("pip install 'privpip[sbom]' (with pipx: pipx inject privpip cyclonedx-python-lib; "
        "with uv: uv tool install 'privpip[sbom]')")


def cyclonedx(origins: Sequence[Origin]) -> str:
    """A CycloneDX 1.6 JSON document for ``origins``."""
    try:
        from cyclonedx.model import (
            ExternalReference,
            ExternalReferenceType,
            HashAlgorithm,
            HashType,
            Property,
            XsUri,
        )
        from cyclonedx.model.bom import Bom
        from cyclonedx.model.component import Component, ComponentType
        from cyclonedx.output.json import JsonV1Dot6
        from packageurl import PackageURL
    except ImportError:
        raise UsageError("--format cyclonedx needs the cyclonedx-python-lib package", HINT
                         ) from None
    from packaging.utils import canonicalize_name

    bom = Bom()
    for origin in origins:
        qualifiers = {}
        if origin.index_url and not identity.same_index(origin.index_url, PYPI):
            qualifiers["repository_url"] = origin.index_url
        purl = PackageURL(type="pypi", name=canonicalize_name(origin.name),
                          version=origin.version, qualifiers=qualifiers)
        hashes = [HashType(alg=HashAlgorithm.SHA_256, content=origin.sha256)] \
            if origin.sha256 else []
        references = [ExternalReference(type=ExternalReferenceType.DISTRIBUTION,
                                        url=XsUri(origin.url))] \
            if origin.url and origin.kind == "index" else []
        properties = [Property(name="privpip:origin", value=origin.kind)]
        if origin.index_name:
            properties.append(Property(name="privpip:index", value=origin.index_name))
        if origin.why:
            properties.append(Property(name="privpip:why", value=origin.why))
        if origin.finding:
            properties.append(Property(name="privpip:finding", value=origin.finding))
        bom.components.add(Component(
            name=origin.name, version=origin.version, type=ComponentType.LIBRARY, purl=purl,
            bom_ref=str(purl), hashes=hashes, external_references=references,
            properties=properties))
    return str(JsonV1Dot6(bom).output_as_string(indent=2))
