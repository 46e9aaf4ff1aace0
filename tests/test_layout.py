"""The house keeps its order: imports point one way, entry points -> routes ->
capabilities -> core, and no module reaches itself through a circle of imports.

Read from the source with `ast` (nothing is imported), every import counted, those inside
functions too, since they run as surely as the ones at the top."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .helpers.source import parse

WIDGET = Path(__file__).resolve().parent.parent / "widget"

# From the top floor down. A module may import its own room and any room on a lower
# floor; rooms on one floor import each other only downwards in their listed order.
FLOORS = [
    ("entry", ["widget.__main__", "widget.cli", "widget.demo", "widget.servers", "widget",
               "widget.settings"]),
    ("routes", ["widget.dashboard", "widget.api", "widget.pages"]),
    ("capabilities", ["widget.mail", "widget.letters", "widget.sync", "widget.subscribers",
                      "widget.giveback", "widget.gifts", "widget.insight", "widget.sites"]),
    ("core", ["widget.migrations", "widget.core", "widget.models"]),
]
RANK = {room: (floor, order) for floor, (_, rooms) in enumerate(FLOORS)
        for order, room in enumerate(rooms)}


def module_name(path: Path) -> str:
    parts = path.relative_to(WIDGET.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in WIDGET.rglob("*.py")}


def room_of(module: str) -> str:
    """The longest listed room the module belongs to ('widget' itself is the factory)."""
    best = max((r for r in RANK if module == r or module.startswith(r + ".")), key=len)
    return best


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    """Every widget module `module` imports (a name imported from a package counts as
    that submodule when it is one)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "widget"}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            if base.split(".")[0] != "widget":
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
    found.discard(module)
    return found


def graph() -> dict[str, set[str]]:
    modules = all_modules()
    return {m: imports_of(m, p, set(modules)) for m, p in modules.items()}


def upward(graph: dict[str, set[str]]) -> list[str]:
    """Imports that climb: to a higher floor, or to a room listed before on the same one."""
    wrong = []
    for module, targets in sorted(graph.items()):
        here = room_of(module)
        for target in sorted(targets):
            there = room_of(target)
            if there != here and RANK[there] < RANK[here]:
                wrong.append(f"{module} -> {target}")
    return wrong


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each circle of imports once, found by depth-first search."""
    found, state = [], {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(trail[trail.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = "done"

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    return found


def test_every_module_lives_in_a_listed_room():
    unplaced = [m for m in all_modules() if not any(m == r or m.startswith(r + ".")
                                                    for r in RANK)]
    assert unplaced == []


def test_imports_point_down():
    assert upward(graph()) == []


def test_no_import_circles():
    assert circles(graph()) == []


@pytest.mark.parametrize("lower, higher", [("widget.core.tokens", "widget.dashboard"),
                                           ("widget.models.base", "widget.core.db"),
                                           ("widget.gifts.ledger", "widget.subscribers")])
def test_the_check_catches_an_import_that_climbs(lower, higher):
    """The check itself can fail: one added upward import is reported."""
    g = graph()
    g[lower] = g[lower] | {higher}
    assert upward(g) == [f"{lower} -> {higher}"]


def test_the_check_catches_a_circle():
    g = graph()
    g["widget.core.db"] = g["widget.core.db"] | {"widget.core.errors"}
    g["widget.core.errors"] = g["widget.core.errors"] | {"widget.core.db"}
    # Either module may be where the walk entered the circle.
    assert [c for c in circles(g) if set(c) == {"widget.core.db", "widget.core.errors"}]
