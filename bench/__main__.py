"""`make bench`: every bench module in turn, each in its own process on the configured
DATABASE_URL and BROKER_URL, then one table of every goal, written to bench/results.json
(BENCH_RESULTS: elsewhere). BENCH_QUICK=1: small sizes, to prove that the bench runs."""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.table import Row, render

MODULES = ("decision_latency", "cv_bank_lists", "deadline_sweep", "trial_invitations")
RESULTS = Path(__file__).parent / "results.json"


def main() -> None:
    rows: list[Row] = []
    for module in MODULES:
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            print(f"== bench.{module}", flush=True)
            env = {**os.environ, "BENCH_ROWS": out.name}
            subprocess.run([sys.executable, "-m", f"bench.{module}"], env=env, check=True)
            rows += json.loads(Path(out.name).read_text())
    path = Path(os.environ.get("BENCH_RESULTS") or RESULTS)
    path.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"\n{render(rows)}\n\nwritten to {path}")


if __name__ == "__main__":
    main()
