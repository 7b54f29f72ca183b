"""The layers of the package, read from every import (those inside functions too, which the
start-up budget puts there): commands -> run and checks -> credentials and config -> core rules.

The package is grouped by layer (docs/architecture.md): a module belongs to the longest
package or module name listed in LAYERS that holds it, and may import its own layer and those
below. What does not hold yet is listed, so that the list can only shrink."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "privpip"

CORE, CREDENTIALS_AND_CONFIG, RUN_AND_CHECKS, COMMANDS = range(4)
LAYERS = {
    # pure rules and small helpers: no config, no credentials, no child
    "privpip.core": CORE, "privpip.ui": CORE, "privpip.errors": CORE,
    "privpip.run.target": CORE, "privpip.run.pip_ahead_child": CORE,  # started before privpip
    "privpip.localindex.pages": CORE, "privpip.localindex.routing": CORE,
    "privpip.localindex.model": CORE,
    "privpip.config": CREDENTIALS_AND_CONFIG, "privpip.credentials": CREDENTIALS_AND_CONFIG,
    "privpip.run": RUN_AND_CHECKS, "privpip.checks": RUN_AND_CHECKS,
    "privpip.hygiene": RUN_AND_CHECKS, "privpip.localindex": RUN_AND_CHECKS,
    "privpip.context": RUN_AND_CHECKS,
    # keyring's entry point names it, and users may name it in PYTHON_KEYRING_BACKEND
    "privpip.keyring_backend": RUN_AND_CHECKS,
    "privpip.cli": COMMANDS, "privpip.launch": COMMANDS, "privpip.__main__": COMMANDS,
}
COMMANDS_PREFIX = ("privpip.cli", "privpip.launch", "privpip.__main__")

# Known exceptions (remove a line when it is fixed; never add one without saying why).
CLICK_OUTSIDE_COMMANDS: set[str] = set()
CYCLES: list[set[str]] = []
# Modules over the 600-line bound (issue 21 splits them; never add one).
LONG_MODULES: set[str] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


@functools.cache
def imports(name: str) -> frozenset[str]:
    """Every module ``name`` imports, anywhere in it (``from pkg import sub`` counts as sub)."""
    path = MODULES[name]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                found.add(sub if sub in MODULES else module)
    return frozenset(found)


def privpip_imports(name: str) -> set[str]:
    """The privpip modules ``name`` imports (a name inside a module counts as the module)."""
    out = set()
    for target in imports(name):
        while target and target not in MODULES:
            target = target.rpartition(".")[0]
        if target and target != name:
            out.add(target)
    return out


def layer(name: str) -> int:
    if name == "privpip":
        return CORE
    parts = name.split(".")
    for n in range(len(parts), 1, -1):
        if ".".join(parts[:n]) in LAYERS:
            return LAYERS[".".join(parts[:n])]
    raise AssertionError(f"{name}: in no layer (add its package to LAYERS)")


LAYER_NAMES = ["core", "credentials/config", "run/checks", "commands"]


def test_every_module_has_a_layer():
    for name in MODULES:
        layer(name)


def test_the_reader_sees_imports_inside_functions():
    assert "privpip.run.pipeline" in privpip_imports("privpip.cli.install")  # inside install()
    assert "privpip.localindex.server" in privpip_imports("privpip.localindex")


@pytest.mark.parametrize("name", sorted(MODULES))
def test_a_module_imports_only_its_layer_and_below(name):
    upward = {dep for dep in privpip_imports(name) if layer(dep) > layer(name)}
    assert upward == set(), (f"{name} ({LAYER_NAMES[layer(name)]}) imports from above: "
                             + ", ".join(f"{d} ({LAYER_NAMES[layer(d)]})" for d in upward))


def test_the_local_index_does_not_import_the_child_runner_or_the_pipeline():
    for name in MODULES:
        if name.startswith("privpip.localindex"):
            assert privpip_imports(name) & {"privpip.run.runner", "privpip.run.pipeline",
                                            "privpip.run.pip_ahead", "privpip.context"} == set(), name
            assert not any(d.startswith(("privpip.run.delivery", "privpip.cli"))
                           for d in privpip_imports(name)), name


def test_click_is_the_commands_own():
    users = {name for name in MODULES
             if any(m == "click" or m.startswith("click.") for m in imports(name))}
    assert {u for u in users if not u.startswith(COMMANDS_PREFIX)} == CLICK_OUTSIDE_COMMANDS


def test_commands_leave_keyring_and_urls_to_the_layers_below():
    """No command imports keyring or an HTTP client itself, nor a credential store: they ask
    privpip.credentials.stored (both stores together)."""
    for name in MODULES:
        if name.startswith("privpip.cli"):
            network = {m for m in imports(name) if m.split(".")[0] in ("keyring", "http")
                       or m.startswith("urllib.request")}
            assert network == set(), name
    touching = {name for name in MODULES if name.startswith("privpip.cli")
                and privpip_imports(name) & {"privpip.credentials.store",
                                             "privpip.credentials.filestore"}}
    assert touching == set(), touching


def test_no_module_over_600_lines_beyond_the_known_ones():
    long = {name for name, path in MODULES.items()
            if len(path.read_text(encoding="utf-8").splitlines()) > 600}
    assert long == LONG_MODULES


def test_no_import_cycle_beyond_the_known_one():
    graph = {name: privpip_imports(name) for name in MODULES}
    cycles = []
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(component)

    for name in sorted(graph):
        if name not in index:
            visit(name)
    assert sorted(map(sorted, cycles)) == sorted(map(sorted, CYCLES))
