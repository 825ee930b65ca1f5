"""No new import cycle between the top-level units of app/ (its packages and modules).

The graph: an edge `a -> b` when any module in `app/a` (or `app/a.py`) imports anything
from `app.b`, at any depth in the file (function-local and TYPE_CHECKING imports count: a
cycle hidden inside a function is still a cycle in the design). Edges that lie on a cycle
(inside one strongly connected component) must be listed in tests/import_cycles.txt, and
every listed edge must still lie on a cycle: the list can only shrink.

To update the list after removing a cycle (or when merging branches that moved modules):

    .venv/bin/python -m tests.test_import_cycles --write

then review `git diff tests/import_cycles.txt`: lines may go, a line added is a new cycle
and needs a reason in the commit message (better: break it). Without --write the command
prints the graph's cycles.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app"
ALLOWED = Path(__file__).with_name("import_cycles.txt")
UPDATE = "run `.venv/bin/python -m tests.test_import_cycles --write` and review the diff"


def unit_of(module: str) -> str | None:
    """`app.alerts.engine` -> `alerts`; `app.db` -> `db`; outside app -> None."""
    parts = module.split(".")
    if parts[0] != "app" or len(parts) < 2:
        return None
    return parts[1]


def imported_modules(path: Path) -> Iterable[str]:
    """Every absolute module name `path` imports (relative imports resolved), and for
    `from package import name` also `package.name` (it may be a module)."""
    relative = path.relative_to(ROOT).with_suffix("")
    package = list(relative.parts if path.name == "__init__.py" else relative.parts[:-1])
    if path.name == "__init__.py":
        package = package[:-1] if package[-1] == "__init__" else package
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            yield module
            for alias in node.names:
                yield f"{module}.{alias.name}"


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in sorted(APP.rglob("*.py")):
        source = unit_of(".".join(path.relative_to(ROOT).with_suffix("").parts))
        if source is None or source == "__init__":
            continue
        targets = graph.setdefault(source, set())
        for module in imported_modules(path):
            target = unit_of(module)
            if target is not None and target != source and target != "__init__":
                targets.add(target)
    for targets in list(graph.values()):
        for target in targets:
            graph.setdefault(target, set())
    return graph


def components(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one unit (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component: set[str] = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def cycle_edges(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    """The edges that lie on some cycle: both ends in one strongly connected component."""
    edges: set[tuple[str, str]] = set()
    for component in components(graph):
        for source in component:
            edges |= {(source, target) for target in graph[source] if target in component}
    return edges


def read_allowed() -> set[tuple[str, str]]:
    allowed: set[tuple[str, str]] = set()
    for line in ALLOWED.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            source, target = (part.strip() for part in line.split("->"))
            allowed.add((source, target))
    return allowed


def render(edges: set[tuple[str, str]]) -> str:
    header = (
        "# Import edges between top-level units of app/ that lie on an import cycle today.\n"
        "# This list may only shrink. Regenerate: .venv/bin/python -m tests.test_import_cycles"
        " --write\n# (see tests/test_import_cycles.py).\n"
    )
    return header + "".join(f"{source} -> {target}\n" for source, target in sorted(edges))


def test_no_new_import_cycle_between_top_level_units() -> None:
    edges = cycle_edges(import_graph())
    new = sorted(edges - read_allowed())
    assert not new, (
        "New import edges on a cycle between top-level units of app/ (break the cycle: "
        "move the shared code down, or import the other way round):\n"
        + "\n".join(f"  {s} -> {t}" for s, t in new)
        + f"\nIf this is a merge of moved modules, {UPDATE}."
    )


def test_the_allowed_cycles_list_only_shrinks() -> None:
    gone = sorted(read_allowed() - cycle_edges(import_graph()))
    assert not gone, (
        "These listed import edges no longer lie on a cycle; remove them from "
        f"{ALLOWED.name} (good news), or {UPDATE}:\n" + "\n".join(f"  {s} -> {t}" for s, t in gone)
    )


def test_the_graph_finds_cycles_and_only_their_edges() -> None:
    graph = {"a": {"b"}, "b": {"c", "d"}, "c": {"a"}, "d": set(), "e": {"e"}}
    assert components(graph) == [{"a", "b", "c"}]
    assert cycle_edges(graph) == {("a", "b"), ("b", "c"), ("c", "a")}


def main(argv: list[str]) -> int:
    graph = import_graph()
    edges = cycle_edges(graph)
    if "--write" in argv:
        ALLOWED.write_text(render(edges), encoding="utf-8")
        print(f"wrote {len(edges)} edges to {ALLOWED.relative_to(ROOT)}")
        return 0
    for component in components(graph):
        print("cycle among:", ", ".join(sorted(component)))
    print(f"{len(edges)} edges lie on cycles; --write records them in {ALLOWED.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
