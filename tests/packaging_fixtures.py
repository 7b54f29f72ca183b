"""Small distributions for the test index, written by hand so no build tool or network is needed.

- corp-dep 1.0 (wheel): a plain library.
- corp-build-helper 1.0 (wheel): a tiny PEP 517 build backend; exists only on the private index.
- corp-app 1.0 (sdist): built by corp-build-helper, so installing it needs the private index
  inside pip's isolated build environment too.
"""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

# The backend works on Python 3.8+ and needs nothing but the standard library.
BACKEND = '''
"""A minimal PEP 517 backend: packages one module directory described in corp_build.txt."""
import base64, hashlib, io, os, tarfile, zipfile


def _describe():
    with open("corp_build.txt") as handle:
        name, version, module = handle.read().split()
    return name, version, module


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name, version, module = _describe()
    dist = name.replace("-", "_")
    files = {}
    for root, _dirs, names in os.walk(module):
        for item in sorted(names):
            if item.endswith(".py"):
                path = os.path.join(root, item)
                with open(path, "rb") as handle:
                    files[path.replace(os.sep, "/")] = handle.read()
    info = "%s-%s.dist-info" % (dist, version)
    files[info + "/METADATA"] = (
        "Metadata-Version: 2.1\\nName: %s\\nVersion: %s\\n" % (name, version)).encode()
    files[info + "/WHEEL"] = (
        b"Wheel-Version: 1.0\\nGenerator: corp-build-helper\\nRoot-Is-Purelib: true\\n"
        b"Tag: py3-none-any\\n")
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (path, digest, len(data)))
    record.append(info + "/RECORD,,")
    files[info + "/RECORD"] = ("\\n".join(record) + "\\n").encode()
    filename = "%s-%s-py3-none-any.whl" % (dist, version)
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return filename


def build_sdist(sdist_directory, config_settings=None):
    name, version, module = _describe()
    base = "%s-%s" % (name.replace("-", "_"), version)
    filename = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz") as archive:
        for path in ["pyproject.toml", "corp_build.txt", "PKG-INFO"]:
            if os.path.exists(path):
                archive.add(path, base + "/" + path)
        if not os.path.exists("PKG-INFO"):
            data = ("Metadata-Version: 2.1\\nName: %s\\nVersion: %s\\n" % (name, version)).encode()
            info = tarfile.TarInfo(base + "/PKG-INFO")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        archive.add(module, base + "/" + module)
    return filename
'''


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def write_wheel(directory: Path, name: str, version: str, files: dict[str, str],
                requires: list[str] | None = None) -> Path:
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    contents = {path: text.encode() for path, text in files.items()}
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires or [])
    contents[f"{info}/METADATA"] = metadata.encode()
    contents[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: privpip-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = [_record_line(p, d) for p, d in contents.items()] + [f"{info}/RECORD,,"]
    contents[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = directory / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in contents.items():
            archive.writestr(member, data)
    return path


def app_source_files(name: str, version: str, module: str) -> dict[str, str]:
    """The source tree of a project built by corp-build-helper."""
    return {
        "pyproject.toml": (
            "[build-system]\n"
            'requires = ["corp-build-helper"]\n'
            'build-backend = "corp_build_helper"\n'
        ),
        "corp_build.txt": f"{name} {version} {module}\n",
        f"{module}/__init__.py": f"VALUE = {name + ' ' + version!r}\n",
    }


def write_sdist(directory: Path, name: str, version: str, module: str) -> Path:
    return write_sdist_files(directory, name, version, app_source_files(name, version, module))


def write_sdist_files(directory: Path, name: str, version: str, files: dict[str, str]) -> Path:
    """An sdist holding ``files`` (relative paths -> text) plus PKG-INFO."""
    base = f"{name.replace('-', '_')}-{version}"
    files = dict(files)
    files["PKG-INFO"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    path = directory / f"{base}.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for member, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{base}/{member}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def populate(directory: Path) -> None:
    """Write the private index's packages into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    write_wheel(directory, "corp-dep", "1.0", {"corp_dep/__init__.py": "VALUE = 'corp-dep 1.0'\n"})
    write_wheel(directory, "corp-build-helper", "1.0", {"corp_build_helper.py": BACKEND})
    write_sdist(directory, "corp-app", "1.0", "corp_app")
