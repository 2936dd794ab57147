"""Helpers shared by the benchmarks: the machine description, percentiles and the report printer.

Every benchmark prints a human-readable report and, with `--json`, one JSON object with the same
figures, so `tests/bench/test_bench_smoke.py` can check them without parsing text.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Fake credentials and quiet Powertools for every benchmark: nothing may reach a real account, and
# the JSON logs and EMF metrics of the handlers would drown the report.
SAFE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "ap-northeast-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "SgwDrift",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
}


def use_safe_environment() -> None:
    """Set fake credentials and quiet Powertools before boto3 or Powertools are imported."""
    os.environ.update(SAFE_ENVIRONMENT)
    os.environ.pop("AWS_PROFILE", None)


def machine() -> dict:
    """Describe the machine a figure was measured on: cores, CPU model and Python version."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Return the nearest-rank percentile of `values` (`fraction` 0.5 for the median), None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))  # ceil(n * fraction), at least 1
    return ordered[int(rank) - 1]


def command_line() -> str:
    return "python " + " ".join([os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]])


def emit(report: dict, *, as_json: bool, lines: list[str]) -> None:
    """Print the report: the text lines, or one JSON object with `--json`."""
    if as_json:
        print(json.dumps(report, ensure_ascii=False, default=str))
        return
    header = report["machine"]
    print(f"# {report['benchmark']}: {command_line()}")
    print(f"# machine: {header['nproc']} cores, {header['cpu']}, Python {header['python']}, ", end="")
    print(header["platform"])
    for line in lines:
        print(line)


def table(rows: list[list[object]], headers: list[str]) -> list[str]:
    """Format rows as a plain text table with right-aligned numbers."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(headers[index]), *(len(row[index]) for row in cells)) for index in range(len(headers))]
    out = ["  ".join(header.ljust(width) for header, width in zip(headers, widths, strict=True))]
    out.append("  ".join("-" * width for width in widths))
    for row in cells:
        out.append(
            "  ".join(
                value.ljust(width) if index == 0 else value.rjust(width)
                for index, (value, width) in enumerate(zip(row, widths, strict=True))
            )
        )
    return out


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
