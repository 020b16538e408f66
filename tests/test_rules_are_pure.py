"""The shape of the code: pure rules, storage below everything, and no import circles.

Rules modules (each feature's ``rules.py`` and the other modules listed in ``PURE``) are
plain Python over ``storage/``: they import nothing of Bolt, slack_sdk or the Slack shell,
so they can be read and tested without Slack. ``storage/`` knows nothing of ``bot/``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Modules of the functional core, besides ``bot/common/`` and every ``rules.py``.
PURE_EXTRA = {"bot.incidents.access", "bot.tasks.reminders", "bot.postmortem.compile",
              "bot.postmortem.templates", "bot.slack.errors", "bot.due.lease",
              "bot.due.outcome", "bot.due.pump", "bot.postmortem.followup",
              "bot.web.api_rules", "bot.web.api_schema", "bot.insights.svg",
              "bot.insights.report"}
SLACK_LIBRARIES = ("slack_bolt", "slack_sdk")


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports() -> dict[str, set[str]]:
    """Every module of ``bot/`` and ``storage/`` → the modules it imports (anywhere in it)."""
    graph: dict[str, set[str]] = {}
    for top in ("bot", "storage"):
        for path in (ROOT / top).rglob("*.py"):
            name = _module(path)
            found: set[str] = set()
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    found.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    found.add(node.module)
                    found.update(f"{node.module}.{alias.name}" for alias in node.names)
            graph[name] = found
    return {name: {m for m in found if m in graph or m.startswith(SLACK_LIBRARIES)}
            for name, found in graph.items()}


def _pure(name: str) -> bool:
    return name.startswith("bot.common") or name.endswith(".rules") or name in PURE_EXTRA


def test_rules_modules_import_no_slack_and_no_shell() -> None:
    graph = _imports()
    pure = sorted(name for name in graph if _pure(name))
    assert "bot.incidents.rules" in pure and "bot.timeline.rules" in pure  # the list is real
    packages = {_module(p.parent) for p in (ROOT / "bot").rglob("__init__.py")}
    offenders = [f"{name} imports {dep}" for name in pure for dep in sorted(graph[name])
                 if dep.startswith(SLACK_LIBRARIES)
                 or (dep.startswith("bot") and not _pure(dep) and dep not in packages)]
    assert not offenders, offenders


def test_storage_knows_nothing_of_bot() -> None:
    offenders = [f"{name} imports {dep}" for name, deps in _imports().items()
                 if name.startswith("storage") for dep in deps if dep.startswith("bot")]
    assert not offenders, offenders


def test_no_import_circles() -> None:
    graph = _imports()
    # A package's own name stands for its __init__; edges into it are not edges into children.
    state: dict[str, int] = {}
    circles: list[list[str]] = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for dep in sorted(graph.get(name, ())):
            if dep not in graph or dep == name:
                continue
            if state.get(dep) == 1:
                circles.append([*path[path.index(dep):], dep] if dep in path else [name, dep])
            elif dep not in state:
                visit(dep, [*path, dep])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not circles, circles


#: Layers from the bottom up; a module may import its own layer and those below it.
LAYERS = [
    ("storage",),
    ("bot.common", "bot.metrics", "bot.logs"),
    ("bot.settings", "bot.slack", "bot.deps", "bot.server", "bot.inbox"),
    ("bot.incidents", "bot.timeline", "bot.tasks", "bot.postmortem", "bot.due", "bot.nudges",
     "bot.updates", "bot.digest", "bot.insights"),
    ("bot.app", "bot.background", "bot.socket_mode", "bot.web"),
    ("bot.lifecycle", "bot.sandbox", "bot.cli"),
]


def _layer(name: str) -> int | None:
    for level, prefixes in enumerate(LAYERS):
        if any(name == p or name.startswith(p + ".") for p in prefixes):
            return level
    return None


def test_no_module_imports_upward() -> None:
    unplaced = sorted(n for n in _imports() if n.startswith("bot.") and _layer(n) is None
                      and n.count(".") == 1 and not n.endswith("templates"))
    assert not unplaced, f"give these modules a layer in LAYERS: {unplaced}"
    offenders = []
    for name, deps in _imports().items():
        mine = _layer(name)
        for dep in deps:
            theirs = _layer(dep)
            if mine is not None and theirs is not None and theirs > mine:
                offenders.append(f"{name} imports {dep}")
    assert not offenders, offenders
