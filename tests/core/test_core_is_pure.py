"""The functional core knows nothing of Slack: no Bolt, no slack_sdk, no shell modules."""

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "bot" / "core"
FORBIDDEN = ("slack_bolt", "slack_sdk", "bot.listeners", "bot.app", "bot.slack",
             "bot.fakeslack", "bot.simulator")


def test_core_modules_import_no_slack() -> None:
    offenders = []
    for path in CORE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith(FORBIDDEN)]
    assert not offenders, offenders
