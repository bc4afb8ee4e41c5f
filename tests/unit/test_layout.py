"""The house shows the data flow: `pipelines/lib/` imports go down the layers, nothing imports in a
circle, and no module outgrows 800 lines (README "Layout")."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIPELINES = ROOT / "pipelines"
# The layers of `pipelines/lib/`, in the order of the data flow: a module may import its own
# layer and the layers before it. `lake` (paths, atomic writes) sits below all of them.
LAYERS = ("lake", "collect", "land", "reference", "warehouse", "findings", "serve")
MAX_LINES = 800


def module_name(path: Path, base: Path) -> str:
    parts = path.relative_to(base).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path = PIPELINES) -> dict[str, set[str]]:
    """Module -> the project modules it imports, lazy imports inside functions included."""
    modules = {module_name(p, root.parent): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative import: resolve against the package
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    found.add(full if full in modules else base)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if parts[:2] == ["pipelines", "lib"] and len(parts) > 2 else None


def layer_violations(graph: Mapping[str, set[str]]) -> set[tuple[str, str]]:
    """(importer, imported) pairs that point up the data flow or out of `lib/`."""
    bad = set()
    for module, imported in graph.items():
        for dep in imported:
            if module.startswith("pipelines.lib"):
                if not dep.startswith("pipelines.lib"):
                    bad.add((module, dep))  # lib never imports defs/, cli/ or the demo
                elif LAYERS.index(layer(dep)) > LAYERS.index(layer(module)):
                    bad.add((module, dep))
            elif module.startswith("pipelines.demo") and not dep.startswith("pipelines.demo"):
                bad.add((module, dep))  # the demo generator makes inputs; it uses no layer
            elif module.startswith("pipelines.defs") and dep.startswith("pipelines.cli"):
                bad.add((module, dep))  # the CLI runs the definitions, never the reverse
    return bad


def test_lib_has_one_package_per_layer() -> None:
    lib = PIPELINES / "lib"
    packages = {p.name for p in lib.iterdir() if (p / "__init__.py").is_file()}
    modules = {p.stem for p in lib.glob("*.py") if p.name != "__init__.py"}
    assert (packages, modules) == (set(LAYERS) - {"lake"}, {"lake"})


def test_no_import_circles() -> None:
    assert cycles(import_graph()) == []


def test_imports_go_down_the_data_flow() -> None:
    assert layer_violations(import_graph()) == set()


def test_no_module_over_800_lines() -> None:
    sizes = {
        str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in PIPELINES.rglob("*.py")
    }
    assert {path: n for path, n in sizes.items() if n > MAX_LINES} == {}


def test_the_checks_see_a_circle_and_an_upward_import() -> None:
    """The checkers themselves: a two-module circle and a land -> serve import are reported."""
    graph = {
        "pipelines.lib.land.a": {"pipelines.lib.serve.b"},
        "pipelines.lib.serve.b": {"pipelines.lib.land.a", "pipelines.lib.lake"},
        "pipelines.lib.lake": set(),
        "pipelines.lib.warehouse.c": {"pipelines.defs.models"},
        "pipelines.demo.x": {"pipelines.lib.lake"},
    }
    assert cycles(graph) == [["pipelines.lib.land.a", "pipelines.lib.serve.b"]]
    assert layer_violations(graph) == {
        ("pipelines.lib.land.a", "pipelines.lib.serve.b"),
        ("pipelines.lib.warehouse.c", "pipelines.defs.models"),
        ("pipelines.demo.x", "pipelines.lib.lake"),
    }


def test_the_import_graph_reads_lazy_and_relative_imports(tmp_path: Path) -> None:
    package = tmp_path / "pipelines" / "lib" / "land"
    package.mkdir(parents=True)
    for folder in (tmp_path / "pipelines", tmp_path / "pipelines" / "lib", package):
        (folder / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from pipelines.lib.land import b\n")
    (package / "b.py").write_text("from . import a\n")
    graph = import_graph(tmp_path / "pipelines")
    assert graph["pipelines.lib.land.a"] == {"pipelines.lib.land.b"}
    assert graph["pipelines.lib.land.b"] == {"pipelines.lib.land.a"}
