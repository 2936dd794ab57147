"""Cold start: a fresh interpreter importing each handler module and creating its AWS clients.

The baseline is the least a Powertools handler on boto3 pays: a fresh interpreter that imports
boto3 and Powertools Logger, Metrics and parser, and creates the same boto3 clients, with the same
retry configuration, as sgw-drift's runtime (S3, Storage Gateway, SSM, SNS, SQS, and DynamoDB as a
client and a resource). The ratio is the import time that sgw-drift's own modules and the
Powertools utilities it uses (batch, idempotency, tracer, parameters) add on top.

Each measurement starts a new `python` process, after one discarded warm-up run that writes the
bytecode caches; the figure is the median wall time of the process and of the measured part
inside it (imports and clients, without the interpreter's own start-up).

    python bench/cold_start.py            # 15 runs each
    python bench/cold_start.py --smoke    # 1 run each, no warm-up
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import benchlib

HANDLERS = ("object_events", "refresh_completed", "reconcile")

# The clients `sgw_drift.runtime.build_runtime` creates, with its retry configuration.
CREATE_CLIENTS = """
import boto3
from botocore.config import Config
config = Config(retries={"mode": "standard", "max_attempts": 5}, user_agent_extra="sgw-drift/0.1")
session = boto3.session.Session()
names = ("s3", "storagegateway", "ssm", "sns", "sqs", "dynamodb")
clients = [session.client(name, config=config) for name in names]
clients.append(session.resource("dynamodb", config=config).Table("sgw-drift-state"))
"""

BASELINE = """
import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.parser import BaseModel, parse
logger = Logger(service="baseline")
metrics = Metrics(namespace="Baseline", service="baseline")
"""

HANDLER = """
import sys
sys.path.insert(0, {directory!r})
import app
"""

PROGRAM = """
import json, time
started = time.perf_counter()
{body}
{clients}
print(json.dumps({{"seconds": time.perf_counter() - started}}))
"""


def program(kind: str) -> str:
    if kind == "baseline":
        body = BASELINE
    else:
        body = HANDLER.format(directory=str(benchlib.ROOT / "functions" / kind))
    return PROGRAM.format(body=body, clients=CREATE_CLIENTS)


def environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "POWERTOOLS_"))}
    env.update(benchlib.SAFE_ENVIRONMENT)
    # Lambda sets these for every function; Powertools reads them at import.
    env.update({"AWS_LAMBDA_FUNCTION_NAME": "cold-start-bench", "POWERTOOLS_SERVICE_NAME": "sgw-drift"})
    return env


def measure(kinds: tuple[str, ...], runs: int, *, warm_up: bool = True) -> dict[str, dict]:
    """Start `runs` fresh interpreters per kind, taking the kinds in turn so that load on the machine
    falls on all of them alike."""
    env = environment()
    codes = {kind: program(kind) for kind in kinds}
    process_seconds: dict[str, list[float]] = {kind: [] for kind in kinds}
    inner_seconds: dict[str, list[float]] = {kind: [] for kind in kinds}
    for attempt in range(runs + 1 if warm_up else runs):
        for kind in kinds:
            started = time.perf_counter()
            completed = subprocess.run(
                [sys.executable, "-c", codes[kind]], env=env, capture_output=True, text=True, check=False
            )
            elapsed = time.perf_counter() - started
            if completed.returncode != 0:
                raise RuntimeError(f"cold start of {kind} failed: {completed.stderr[-2000:]}")
            if warm_up and attempt == 0:
                continue  # warm-up: writes the bytecode caches, as a deployed package would ship them
            process_seconds[kind].append(elapsed)
            inner_seconds[kind].append(json.loads(completed.stdout.strip().splitlines()[-1])["seconds"])
    return {
        kind: {
            "runs": runs,
            "process_median_ms": round(statistics.median(process_seconds[kind]) * 1000, 1),
            "imports_and_clients_median_ms": round(statistics.median(inner_seconds[kind]) * 1000, 1),
            "process_min_ms": round(min(process_seconds[kind]) * 1000, 1),
        }
        for kind in kinds
    }


def run(*, smoke: bool) -> dict:
    runs = 1 if smoke else 15
    results = measure(("baseline", *HANDLERS), runs, warm_up=not smoke)
    baseline = results["baseline"]
    for kind in HANDLERS:
        results[kind]["ratio_process"] = round(
            results[kind]["process_median_ms"] / baseline["process_median_ms"], 3
        )
        results[kind]["ratio_imports_and_clients"] = round(
            results[kind]["imports_and_clients_median_ms"] / baseline["imports_and_clients_median_ms"], 3
        )
    return {
        "benchmark": "cold_start",
        "machine": benchlib.machine(),
        "runs": runs,
        "results": results,
        "targets": {
            f"{kind}_at_most_1_25x": (
                results[kind]["ratio_process"] <= 1.25,
                results[kind]["ratio_process"],
                1.25,
            )
            for kind in HANDLERS
        },
    }


def report_lines(report: dict) -> list[str]:
    lines = [f"median of {report['runs']} fresh interpreters each (after one warm-up run)", ""]
    rows = []
    for kind, figures in report["results"].items():
        rows.append(
            [
                kind,
                figures["process_median_ms"],
                figures["imports_and_clients_median_ms"],
                figures.get("ratio_process"),
                figures.get("ratio_imports_and_clients"),
            ]
        )
    lines += benchlib.table(
        rows, ["module", "process ms", "imports+clients ms", "ratio process", "ratio inner"]
    )
    lines += ["", "targets:"]
    for name, (met, measured, target) in report["targets"].items():
        lines.append(f"  {'met   ' if met else 'MISSED'} {name}: measured {measured}, target {target}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--smoke", action="store_true", help="run the small size used by the test suite")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the report")
    arguments = parser.parse_args(argv)
    report = run(smoke=arguments.smoke)
    benchlib.emit(report, as_json=arguments.json, lines=report_lines(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
