"""Print the figures of var/chaos/results.json as the Markdown table of docs/RELIABILITY.md.

Usage: .venv/bin/python -m tests.chaos.report [var/chaos/results.json]
"""

import json
import sys
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[2] / "var" / "chaos" / "results.json"


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    runs = json.loads(path.read_text())
    print(
        "| scenario | backend | expected | received once | duplicates | lost "
        "| unknown (received) | failed | time to recover |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for backend, run in sorted(runs.items()):
        for f in run["scenarios"]:
            recover = "—" if f["time_to_recover"] is None else f"{f['time_to_recover']} s"
            print(
                f"| {f['scenario']} | {backend} | {f['expected']} | {f['received_once']} "
                f"| {f['duplicates']} | {f['lost']} | {f['unknown']} ({f['unknown_received']}) "
                f"| {f['failed']} | {recover} |"
            )
    for backend, run in sorted(runs.items()):
        print(f"\n{backend}: {run['measured_at']}, {run['cpus']} cores, {run['seconds']} s")


if __name__ == "__main__":
    main()
