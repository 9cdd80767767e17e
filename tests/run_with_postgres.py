"""Run pytest against a throwaway PostgreSQL cluster: `python tests/run_with_postgres.py [pytest args]`.

The settings read DATABASE_URL when Django starts, before any conftest runs, so the cluster must
exist before pytest does; this wrapper starts it, runs pytest with DATABASE_URL set, and stops it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.infra import Postgres


def main() -> int:
    pg = Postgres().start()
    try:
        env = {**os.environ, "DATABASE_URL": pg.url}
        print(f"PostgreSQL 15 on port {pg.port}: running {' '.join(sys.argv[1:])}", flush=True)
        return subprocess.call([sys.executable, "-m", "pytest", *sys.argv[1:]], env=env)
    finally:
        pg.stop()


if __name__ == "__main__":
    sys.exit(main())
