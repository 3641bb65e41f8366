"""One row per goal: what every bench module returns, how `met` is decided, the printed table.

A row is {"name", "value", "unit", "baseline", "ratio", "goal", "met"}. `goal` reads as a bound
on `ratio` when the goal is relative to a baseline measured in the same run (e.g. "<= 3x" the
no-op floor), else on `value`: "<= 200" or ">= 1.0". `met` comes from `goal` by one function.
"""

import json
import os
import re
from pathlib import Path
from typing import Any

Row = dict[str, Any]
_GOAL = re.compile(r"^(<=|>=|==) ?([0-9.]+)(x?)$")


def quick() -> bool:
    """BENCH_QUICK=1: small sizes, a minute or two; proves the bench runs, measures nothing."""
    return os.environ.get("BENCH_QUICK", "") not in ("", "0")


def met(value: float, ratio: float | None, goal: str) -> bool:
    """Whether a measurement meets its goal: "<= 150" bounds the value, "<= 3x" the ratio."""
    match = _GOAL.match(goal)
    if match is None:
        raise ValueError(f"goal {goal!r}: expected '<= N', '>= N', '== N' or with an 'x'")
    operator, bound, relative = match.group(1), float(match.group(2)), match.group(3)
    measured = ratio if relative else value
    if measured is None:
        raise ValueError(f"goal {goal!r} is a ratio but the row has no baseline")
    return {"<=": measured <= bound, ">=": measured >= bound, "==": measured == bound}[operator]


def row(name: str, value: float, unit: str, goal: str, baseline: float | None = None) -> Row:
    """A row; with a baseline, `ratio` is value / baseline (both in `unit`)."""
    ratio = round(value / baseline, 3) if baseline else None
    return {
        "name": name,
        "value": round(value, 3),
        "unit": unit,
        "baseline": None if baseline is None else round(baseline, 3),
        "ratio": ratio,
        "goal": goal,
        "met": met(value, ratio, goal),
    }


def render(rows: list[Row]) -> str:
    """The table, one line per row, for the terminal and the READMEs (Markdown)."""
    lines = [
        "| name | value | unit | baseline | ratio | goal | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cells = [r["name"], _number(r["value"]), r["unit"], _number(r["baseline"])]
        cells += [_number(r["ratio"]), r["goal"], "yes" if r["met"] else "**no**"]
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    return "\n".join(lines)


def report(rows: list[Row]) -> None:
    """A bench module's end: its table, and its rows written where `python -m bench` asked."""
    print(render(rows))
    if os.environ.get("BENCH_ROWS"):
        Path(os.environ["BENCH_ROWS"]).write_text(json.dumps(rows))


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:,.0f}"
