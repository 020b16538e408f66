"""``make bench``: every benchmark on SQLite and PostgreSQL, one table, and JSON.

Each module in this package with a ``measure(database_url)`` function returns rows of
``(metric, value, unit)``; the runner gives each module a fresh database per backend.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import pkgutil
import platform
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import tests.bench as package
from storage.db import Database

PG_ADMIN = os.environ.get("PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
RESULTS = Path("bench-results.json")


@contextlib.contextmanager
def fresh_database(backend: str) -> Iterator[str]:
    """A new, migrated database of ``backend``, dropped afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="sitrep-bench-") as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            Database(url).migrate()
            yield url
        return
    import psycopg

    name = f"sitrep_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    Database(url).migrate()
    try:
        yield url
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def modules(only: list[str]) -> list[str]:
    names = [m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")]
    return [n for n in sorted(names) if not only or n in only]


def main(argv: list[str]) -> int:
    rows: list[dict[str, object]] = []
    for name in modules(argv):
        module = importlib.import_module(f"tests.bench.{name}")
        backends = os.environ.get("BENCH_BACKENDS", "sqlite,postgresql").split(",")
        for backend in getattr(module, "BACKENDS", backends):
            with fresh_database(backend) as url:
                print(f"running {name} on {backend} …", file=sys.stderr, flush=True)
                for metric, value, unit in module.measure(url):
                    rows.append({"benchmark": name, "backend": backend, "metric": metric,
                                 "value": value, "unit": unit})
    width = max((len(str(r["metric"])) for r in rows), default=10)
    print(f"\n| benchmark | backend | {'metric'.ljust(width)} | value | unit |")
    print(f"|---|---|{'-' * (width + 2)}|---:|---|")
    for r in rows:
        value = r["value"]
        shown = f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"
        print(f"| {r['benchmark']} | {r['backend']} | {str(r['metric']).ljust(width)} | "
              f"{shown} | {r['unit']} |")
    RESULTS.write_text(json.dumps({"machine": platform.platform(), "cpus": os.cpu_count(),
                                   "python": platform.python_version(), "rows": rows},
                                  indent=2))
    print(f"\nwritten to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
