"""Comparison engine: sgw-drift's streaming diff against a set-based diff of the same two listings.

Two sorted listings of `--entries` entries each (files in 100 departments and 1,000-file project
folders, with their directories) differ in a few thousand places: files missing on the share,
files only on the share, sizes that differ, and a file and a folder with the same name. Both
engines get the same inputs and must report the same differences.

Each engine runs twice on fresh generators. The timed run measures wall time; a second run under
tracemalloc measures the peak of Python allocations. Two input modes are measured:

- streamed: the listings come from generators, as the S3 and share listers produce them, so the
  time includes making the Entry objects and the memory includes whatever the engine keeps;
- in memory: both listings are built as lists first, and only the engine's own time and extra
  memory are measured.

    python bench/compare_engine.py            # 1,000,000 entries a side
    python bench/compare_engine.py --smoke    # 20,000 entries a side
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterable, Iterator

import benchlib

from sgw_drift.compare import SAME_NAME, Difference, Kind, compare
from sgw_drift.listing import Entry
from sgw_drift.paths import unrepresentable_reason

NOW = 2_000_000_000.0
SETTLE_SECONDS = 120.0
OLD = NOW - 86_400.0
FILES_PER_FOLDER = 1000
# Every n-th file (by position) differs in one way; primes keep the kinds from coinciding often.
MISSING_EVERY = 503
EXTRA_EVERY = 701
SIZE_EVERY = 907
CONFLICT_EVERY = 50_021


def listing(entries: int, side: str) -> Iterator[Entry]:
    """Yield one side of the benchmark in UTF-8 byte order: directories before their contents."""
    produced = 0
    number = 0
    department = 0
    while produced < entries:
        dept = f"dept{department:03d}/"
        yield Entry(dept, is_dir=True)
        produced += 1
        for project in range(100):
            if produced >= entries:
                return
            folder = f"{dept}proj{project:03d}/"
            yield Entry(folder, is_dir=True)
            produced += 1
            for index in range(FILES_PER_FOLDER):
                if produced >= entries:
                    return
                number += 1
                path = f"{folder}f{index:04d}.dat"
                if number % CONFLICT_EVERY == 0:
                    # A key `x` and keys under `x/`: the share shows only the folder.
                    if side == "bucket":
                        yield Entry(path, size=10, mtime=OLD)
                    yield Entry(path + "/", is_dir=True, mtime=OLD)
                    yield Entry(path + "/inner.dat", size=5, mtime=OLD)
                    produced += 3
                    continue
                if side == "share" and number % MISSING_EVERY == 0:
                    continue
                size = 1000 + number % 4096
                if side == "share" and number % SIZE_EVERY == 0:
                    size += 1
                yield Entry(path, size=size, mtime=OLD)
                produced += 1
                if side == "share" and number % EXTRA_EVERY == 0:
                    yield Entry(path + ".orphan", size=7, mtime=OLD)
                    produced += 1
        department += 1


def set_based_diff(
    bucket: Iterable[Entry], share: Iterable[Entry], *, now: float, settle_seconds: float
) -> list[Difference]:
    """Baseline: index both listings by path, take set differences and intersections, then sort.

    It reports what `sgw_drift.compare.compare` reports for these inputs (without `direct_writes`).
    """
    bucket_index = {entry.path: entry for entry in bucket}
    share_index = {entry.path: entry for entry in share}
    differences: list[Difference] = []
    conflicts = {
        path[:-1] for path, entry in bucket_index.items() if entry.is_dir and path[:-1] in bucket_index
    }

    for path in bucket_index.keys() - share_index.keys():
        entry = bucket_index[path]
        if path in conflicts or entry.is_dir and path[:-1] in conflicts:
            differences.append(Difference(Kind.UNREPRESENTABLE, path, bucket=entry, reason=SAME_NAME))
        elif reason := unrepresentable_reason(path):
            differences.append(Difference(Kind.UNREPRESENTABLE, path, bucket=entry, reason=reason))
        else:
            differences.append(Difference(Kind.MISSING_ON_SHARE, path, bucket=entry))
    for path in share_index.keys() - bucket_index.keys():
        entry = share_index[path]
        recent = entry.mtime is not None and now - entry.mtime < settle_seconds
        kind = Kind.PENDING_UPLOAD if not entry.is_dir and recent else Kind.ONLY_ON_SHARE
        differences.append(Difference(kind, path, share=entry))
    for path in bucket_index.keys() & share_index.keys():
        ours, theirs = bucket_index[path], share_index[path]
        if path in conflicts:
            differences.append(Difference(Kind.UNREPRESENTABLE, path, ours, theirs, SAME_NAME))
        elif path[:-1] in conflicts and ours.is_dir:
            differences.append(Difference(Kind.UNREPRESENTABLE, path, bucket=ours, reason=SAME_NAME))
        elif not ours.is_dir and not theirs.is_dir and ours.size != theirs.size:
            recent = theirs.mtime is not None and now - theirs.mtime < settle_seconds
            differences.append(
                Difference(Kind.PENDING_UPLOAD if recent else Kind.SIZE_DIFFERS, path, ours, theirs)
            )
    differences.sort(key=lambda difference: difference.path.encode("utf-8", "surrogateescape"))
    return differences


def streaming_diff(
    bucket: Iterable[Entry], share: Iterable[Entry], *, now: float, settle_seconds: float
) -> list:
    return list(compare(bucket, share, now=now, settle_seconds=settle_seconds))


ENGINES: dict[str, Callable[..., list[Difference]]] = {
    "sgw_drift": streaming_diff,
    "set_based": set_based_diff,
}


def measure(engine: Callable, entries: int, *, in_memory: bool) -> dict:
    """Run one engine twice: once timed, once under tracemalloc for its peak allocations."""

    def inputs() -> tuple[Iterable[Entry], Iterable[Entry]]:
        if in_memory:
            return list(listing(entries, "bucket")), list(listing(entries, "share"))
        return listing(entries, "bucket"), listing(entries, "share")

    bucket, share = inputs()
    gc.collect()
    started = time.perf_counter()
    differences = engine(bucket, share, now=NOW, settle_seconds=SETTLE_SECONDS)
    elapsed = time.perf_counter() - started
    signature = [(difference.kind.value, difference.path) for difference in differences]
    del differences, bucket, share

    bucket, share = inputs()
    gc.collect()
    tracemalloc.start()
    engine(bucket, share, now=NOW, settle_seconds=SETTLE_SECONDS)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del bucket, share
    gc.collect()
    return {"seconds": round(elapsed, 3), "peak_bytes": peak, "signature": signature}


def generation_seconds(entries: int) -> float:
    """Time to make both listings' Entry objects and nothing else, a part of the streamed time."""
    started = time.perf_counter()
    for _ in listing(entries, "bucket"):
        pass
    for _ in listing(entries, "share"):
        pass
    return time.perf_counter() - started


def run(*, smoke: bool, entries: int | None = None) -> dict:
    entries = entries or (20_000 if smoke else 1_000_000)
    results: dict[str, dict] = {}
    for mode, in_memory in (("streamed", False), ("in_memory", True)):
        measured = {name: measure(engine, entries, in_memory=in_memory) for name, engine in ENGINES.items()}
        ours, baseline = measured["sgw_drift"], measured["set_based"]
        counted = len(list(listing(entries, "bucket"))) + len(list(listing(entries, "share")))
        results[mode] = {
            name: {
                "seconds": figures["seconds"],
                "entries_per_second": round(counted / figures["seconds"]) if figures["seconds"] else None,
                "peak_mib": round(figures["peak_bytes"] / 2**20, 2),
            }
            for name, figures in measured.items()
        }
        results[mode]["same_differences"] = ours["signature"] == baseline["signature"]
        results[mode]["differences"] = len(ours["signature"])
        results[mode]["kinds"] = _kinds(ours["signature"])
        results[mode]["throughput_ratio"] = round(baseline["seconds"] / ours["seconds"], 2)
        results[mode]["memory_ratio"] = round(ours["peak_bytes"] / baseline["peak_bytes"], 4)
        results[mode]["entries_compared"] = counted
    results["streamed"]["generation_seconds"] = round(generation_seconds(entries), 3)
    return {
        "benchmark": "compare_engine",
        "machine": benchlib.machine(),
        "entries_per_side": entries,
        "results": results,
        "targets": {
            f"{mode}_throughput_at_least_2x": (
                results[mode]["throughput_ratio"] >= 2,
                results[mode]["throughput_ratio"],
                2,
            )
            for mode in ("streamed", "in_memory")
        }
        | {
            f"{mode}_peak_memory_at_most_half": (
                results[mode]["memory_ratio"] <= 0.5,
                results[mode]["memory_ratio"],
                0.5,
            )
            for mode in ("streamed", "in_memory")
        },
    }


def _kinds(signature: list[tuple[str, str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for kind, _ in signature:
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def report_lines(report: dict) -> list[str]:
    lines = [f"two listings of {report['entries_per_side']:,} entries per side", ""]
    rows = []
    for mode in ("streamed", "in_memory"):
        result = report["results"][mode]
        for name in ENGINES:
            figures = result[name]
            rows.append(
                [
                    f"{mode} / {name}",
                    f"{figures['seconds']:.3f}",
                    figures["entries_per_second"],
                    f"{figures['peak_mib']:.2f}",
                ]
            )
    lines += benchlib.table(rows, ["inputs / engine", "seconds", "entries/s", "peak MiB"])
    streamed = report["results"]["streamed"]
    lines += [
        "",
        f"differences found: {streamed['differences']:,} {streamed['kinds']}; "
        f"same as the baseline: streamed {streamed['same_differences']}, "
        f"in memory {report['results']['in_memory']['same_differences']}",
        f"making the Entry objects alone takes {streamed['generation_seconds']} s of the streamed time",
        "targets:",
    ]
    for name, (met, measured, target) in report["targets"].items():
        lines.append(f"  {'met   ' if met else 'MISSED'} {name}: measured {measured}, target {target}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--smoke", action="store_true", help="run the small size used by the test suite")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the report")
    parser.add_argument(
        "--entries", type=int, help="entries per listing (default 1,000,000; 20,000 with --smoke)"
    )
    arguments = parser.parse_args(argv)
    report = run(smoke=arguments.smoke, entries=arguments.entries)
    benchlib.emit(report, as_json=arguments.json, lines=report_lines(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
