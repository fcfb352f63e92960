"""The rooms import each other in one direction only, read from the source itself.

    extractors   plain Python: bytes and strings in, records out
    stories      which story an article joins (reads extractors' records)
    warehouse    stores and queries (DuckDB); never decides a story
    digest       the warehouse's rows to text, HTML and e-mail
    flows        Prefect: the pipeline's steps, each a call into the rooms above
    newswatch    the command line, settings and process helpers

A room may import the rooms listed for it and the small modules of the
`newswatch` package (errors, config, lifeline...), which import next to nothing.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROOMS = {"extractors": "extractors", "stories": "stories", "warehouse": "warehouse",
         "digest": "digest", "flows": "flows", "deployments": "deployments"}
# the modules of newswatch/ that any room may use
LEAVES = {"errors", "config", "memory", "prefect_env", "lifeline", "forkserver_lifeline"}
ALLOWED = {
    "errors": set(), "memory": set(), "prefect_env": set(), "lifeline": set(),
    "forkserver_lifeline": {"lifeline"},
    "config": {"errors", "extractors"},  # the fetch policy's defaults (extractors/policy.py)
    "extractors": set(),
    "stories": {"extractors"},
    "warehouse": {"extractors", "stories"},
    "digest": {"extractors", "stories", "warehouse"},
    "flows": {"extractors", "stories", "warehouse", "digest", "worker", "deployments"},
    "deployments": set(),
    "worker": {"extractors", "stories"},
}  # the command line (cli, __main__) may import any room
# what the plain rooms must never load: Prefect, DuckDB, an HTTP client
FORBIDDEN_LIBRARIES = {
    "extractors": {"prefect", "duckdb"},
    "stories": {"prefect", "duckdb", "httpx"},
    "warehouse": {"prefect", "httpx"},
    "digest": {"prefect"},
}


def _room(module: str) -> str | None:
    """The room a dotted module name belongs to ("newswatch.warehouse.load" -> "warehouse",
    "newswatch.errors" -> "errors")."""
    parts = module.split(".")
    return parts[1] if parts[0] == "newswatch" and len(parts) >= 2 else None


def _imports() -> dict[str, set[tuple[str, str]]]:
    """{room: {(imported newswatch room or library, where)}} for every module."""
    found: dict[str, set[tuple[str, str]]] = defaultdict(set)
    files = [(room, path) for room, folder in ROOMS.items()
             for path in (ROOT / folder).rglob("*.py")]
    files += [(path.stem, path) for path in (ROOT / "newswatch").glob("*.py")
              if path.stem != "__init__"]
    for room, path in files:
        package = f"newswatch.{room}" if room in ROOMS else "newswatch"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: inside the room
                    base = package + ("." + base if base else "")
                names = [base]
            for name in names:
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                if name.startswith("newswatch."):
                    target = _room(name)
                    if target and target != room:
                        found[room].add((target, where))
                else:
                    found[room].add(("lib:" + name.split(".")[0], where))
    return found


def test_each_room_imports_only_the_rooms_below_it():
    wrong = [(room, target, where) for room, imports in _imports().items()
             for target, where in imports
             if room in ALLOWED and not target.startswith("lib:")
             and target not in ALLOWED[room] | (LEAVES if room not in LEAVES else set())]
    assert wrong == []


def test_the_plain_rooms_load_no_prefect_duckdb_or_http_client():
    wrong = [(room, target, where) for room, imports in _imports().items()
             for target, where in imports
             if target.removeprefix("lib:") in FORBIDDEN_LIBRARIES.get(room, set())]
    assert wrong == []


def test_the_rooms_import_each_other_without_a_cycle():
    edges = {room: {t for t, _ in imports if not t.startswith("lib:")}
             for room, imports in _imports().items()}
    state: dict[str, str] = {}

    def visit(room: str, path: list[str]) -> None:
        state[room] = "open"
        for target in edges.get(room, ()):
            assert state.get(target) != "open", " -> ".join([*path, room, target])
            if target not in state:
                visit(target, [*path, room])
        state[room] = "done"

    for room in edges:
        if room not in state:
            visit(room, [])
