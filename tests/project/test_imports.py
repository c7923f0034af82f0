"""The project's own modules import one another without cycles and only down the layers of
docs/architecture.md ("Layers"). Read from the source with ast: nothing is imported, and
imports inside functions count too. (ui/cache.py's importlib.import_module is not seen.)"""

import ast
import graphlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("clinical", "data_layer", "ops", "ui", "pages", "bench")
# docs/architecture.md, "Layers": each may use only the ones below it (and itself).
LAYERS = ("clinical", "data_layer", "ops", "ui", "pages", "app")
# What the same section says a layer never imports. streamlit_authenticator imports streamlit.
FORBIDDEN = {
    "clinical": {"streamlit", "streamlit_authenticator", "duckdb"},  # no streamlit, no SQL
    "data_layer": {"streamlit", "streamlit_authenticator"},
    "ops": {"streamlit", "streamlit_authenticator"},
    "pages": {"duckdb"},  # pages hold no SQL and import no duckdb
}


def module_files():
    """Return {module name: file} for app.py and every module of PACKAGES."""
    files = {"app": ROOT / "app.py"}
    for package in PACKAGES:
        for file in sorted((ROOT / package).rglob("*.py")):
            parts = file.relative_to(ROOT).with_suffix("").parts
            files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = file
    return files


def _from_module(node, module, is_package):
    """Return the module a `from ... import` names, a relative one resolved against `module`."""
    if not node.level:
        return node.module
    package = module if is_package else module.rpartition(".")[0]
    base = package.rsplit(".", node.level - 1)[0]
    return f"{base}.{node.module}" if node.module else base


def imported_names(module, file):
    """Return every name `module` imports: for `from a import b`, both a and a.b (b may be a module)."""
    names = set()
    for node in ast.walk(ast.parse(file.read_text(), filename=str(file))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _from_module(node, module, file.name == "__init__.py")
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


@pytest.fixture(scope="module")
def imports():
    """{module: every name it imports}, for the project's own modules."""
    return {module: imported_names(module, file) for module, file in module_files().items()}


def top(name):
    return name.split(".")[0]


def test_no_import_cycles(imports):
    graph = {module: names & imports.keys() for module, names in imports.items()}
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as error:
        # graphlib lists each module before the one that imports it: reversed, each imports the next.
        pytest.fail("import cycle: " + " -> ".join(reversed(error.args[1])))


def test_each_layer_imports_only_the_layers_below_it(imports):
    wrong = []
    for module, names in imports.items():
        if top(module) in LAYERS:
            allowed = LAYERS[: LAYERS.index(top(module)) + 1]
            wrong += [f"{module} imports {name}" for name in sorted(names & imports.keys()) if top(name) not in allowed]
    assert not wrong, "\n".join(wrong)


def test_no_layer_imports_what_the_design_rules_out(imports):
    wrong = [
        f"{module} imports {name}"
        for module, names in imports.items()
        for name in sorted(names)
        if top(name) in FORBIDDEN.get(top(module), ())
    ]
    assert not wrong, "\n".join(wrong)


def test_the_graph_sees_the_project():
    # Guards the three tests above against passing on an empty or misread graph.
    modules = module_files()
    assert {
        "app",
        "ops.backup",
        "ops.backup.__main__",
        "clinical.outcomes",
        "ui.auth",
        "pages.client_today",
        "bench.run",
    } <= modules.keys()
    assert {"ops.backup_service", "data_layer.core.db"} <= imported_names(
        "ops.backup.__main__", modules["ops.backup.__main__"]
    )
