"""`sgw-drift check` against peers: `rclone check` and `aws s3 sync --dryrun --delete`.

One moto server on 127.0.0.1 serves a bucket of `--objects` objects. A temporary directory has the
same tree with injected drift: files missing locally (one whole folder among them), files only in
the directory, files whose size differs, files with the same size but other bytes, and an empty
folder that only the directory has. Every local file is dated an hour back, older than the settle
window, so `sgw-drift check` counts none of them as a pending upload.

Each tool runs as its own process against the same server and directory, one warm-up run and then
`--runs` timed runs, taken in turn. The report gives each tool's median wall time, the ratio of
check's median to the tool's, and whether the tool found the injected drift, mapped to file paths:

- `sgw-drift check --json`: `missing_on_share`, `only_on_share` and `size_differs`; it also lists
  folders (paths ending in `/`), which the other tools do not report.
- `rclone check DIR REMOTE:BUCKET --size-only --combined -`: `-` (only in the bucket), `+` (only in
  the directory) and `*` (differs). `--size-only` because check compares sizes too; without it
  rclone compares MD5 hashes, which means reading every local file. It runs twice: as is, which
  lists folder by folder, and with `--fast-list`, one recursive listing as check makes.
- `aws s3 sync DIR s3://BUCKET --dryrun --delete`: `(dryrun) delete:` lines are keys only in the
  bucket, and `(dryrun) upload:` lines are files only in the directory or whose size differs (the
  bench tells them apart by whether the key exists). It would also upload a file newer than its
  object; the local files here are older.
- `boto3 listing` is a floor, not a peer: a Python process that only pages through the bucket
  with boto3, as check does.

rclone is Debian's package (`apt-get install -y rclone`); without it the bench says so and skips it.
aws-cli pins its own botocore, so it goes into a virtual environment under `.bench/awscli`
(git-ignored), created on first use. Nothing but the moto server on 127.0.0.1 is contacted, with
fake credentials.

    python bench/check_peers.py            # 20,000 objects, 3 timed runs after one warm-up
    python bench/check_peers.py --smoke    # 600 objects, 1 timed run, no warm-up
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import benchlib

benchlib.use_safe_environment()

BUCKET = "peers-bucket"
REGION = benchlib.SAFE_ENVIRONMENT["AWS_DEFAULT_REGION"]
REMOTE = "PEERS"  # the rclone remote, configured through RCLONE_CONFIG_PEERS_* variables
FILES_PER_FOLDER = 50
PROJECTS_PER_DEPARTMENT = 20
UPLOAD_THREADS = 8
AGE_SECONDS = 3600  # local files are this old, well past check's default settle window of 120 s
TOOL_TIMEOUT_SECONDS = 900
AWSCLI_VENV = benchlib.ROOT / ".bench" / "awscli" / "venv"

# Kinds of difference, named so that the output of every tool maps to them.
ONLY_IN_BUCKET = "only_in_bucket"
ONLY_IN_DIRECTORY = "only_in_directory"
SIZE_DIFFERS = "size_differs"
KINDS = (ONLY_IN_BUCKET, ONLY_IN_DIRECTORY, SIZE_DIFFERS)


class ToolError(Exception):
    """A tool failed or printed something the bench cannot map to a difference."""


@dataclass
class Tree:
    """The bucket's objects, the directory's files and the drift injected between them."""

    objects: dict[str, int]  # key -> size
    local: dict[str, int]  # relative path -> size
    expected: set[tuple[str, str]]  # (kind, path) for every file the tools should report
    same_size_edits: list[str]
    missing_folder: str
    extra_empty_folder: str


Found = tuple[set[tuple[str, str]], int]  # (kind, path) of each file, and the folders reported


@dataclass
class Tool:
    name: str
    command: list[str]
    display_command: str  # as the report prints it, with placeholders for temporary names
    environment: dict[str, str]
    parse: Callable[[subprocess.CompletedProcess], Found]
    ok_codes: tuple[int, ...]
    finds_differences: bool = True
    seconds: list[float] = field(default_factory=list)


# The tree --------------------------------------------------------------------------------------------


def object_name(number: int) -> str:
    """Name the file of object `number`: mostly ASCII, some with spaces and some in Japanese."""
    if number % 97 == 0:
        return f"報告 {number:05d}.txt"
    if number % 89 == 0:
        return f"meeting notes {number:05d}.md"
    return f"file-{number:05d}.dat"


def make_tree(objects: int, seed: int) -> Tree:
    """Lay out `objects` keys in department and project folders and draw the drift."""
    draw = random.Random(seed)
    bucket: dict[str, int] = {}
    for number in range(objects):
        folder = number // FILES_PER_FOLDER
        department, project = divmod(folder, PROJECTS_PER_DEPARTMENT)
        key = f"dept{department:02d}/proj{project:02d}/{object_name(number)}"
        bucket[key] = draw.randint(1, 2048)

    keys = sorted(bucket)
    folders = sorted({key.rsplit("/", 1)[0] for key in keys})
    missing_folder = folders[len(folders) // 2]
    in_folder = [key for key in keys if key.startswith(missing_folder + "/")]
    others = [key for key in keys if not key.startswith(missing_folder + "/")]
    per_kind = max(1, objects // 200)  # 0.5 % of the objects for each kind of drift
    picked = draw.sample(others, 3 * per_kind)
    missing = set(in_folder) | set(picked[:per_kind])
    resized = picked[per_kind : 2 * per_kind]
    same_size = picked[2 * per_kind :]

    local = {key: size for key, size in bucket.items() if key not in missing}
    for key in resized:
        local[key] = bucket[key] + draw.randint(1, 100)
    extra = set()
    for index in range(per_kind):
        folder = draw.choice([name for name in folders if name != missing_folder])
        path = f"{folder}/local-only-{index:04d}.dat"
        extra.add(path)
        local[path] = draw.randint(1, 2048)

    expected = {(ONLY_IN_BUCKET, key) for key in missing}
    expected |= {(SIZE_DIFFERS, key) for key in resized}
    expected |= {(ONLY_IN_DIRECTORY, path) for path in extra}
    return Tree(
        objects=bucket,
        local=local,
        expected=expected,
        same_size_edits=sorted(same_size),
        missing_folder=missing_folder + "/",
        extra_empty_folder=f"{folders[0].split('/')[0]}/empty-local-folder/",
    )


def body(path: str, size: int, *, local: bool) -> bytes:
    """Return `size` bytes for `path`. The local copy of a same-size edit differs only in its bytes."""
    pattern = (("local#" if local else "") + path).encode("utf-8")  # differs from the first byte
    return (pattern * (size // len(pattern) + 1))[:size]


def upload(endpoint: str, tree: Tree, *, threads: int) -> float:
    """Create the bucket and put every object through boto3, from a bounded thread pool."""
    import boto3
    from botocore.config import Config

    s3 = boto3.client(
        "s3", endpoint_url=endpoint, region_name=REGION, config=Config(max_pool_connections=threads)
    )
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    started = time.perf_counter()

    def put(item: tuple[str, int]) -> None:
        key, size = item
        s3.put_object(Bucket=BUCKET, Key=key, Body=body(key, size, local=False))

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for _ in pool.map(put, tree.objects.items()):
            pass
    return time.perf_counter() - started


def write_directory(root: Path, tree: Tree) -> None:
    """Write the directory side: the bucket's files with the drift, all dated `AGE_SECONDS` back."""
    same_size = set(tree.same_size_edits)
    old = time.time() - AGE_SECONDS
    for path, size in tree.local.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body(path, size, local=path in same_size))
        os.utime(target, (old, old))
    (root / tree.extra_empty_folder).mkdir(parents=True)


# The tools ----------------------------------------------------------------------------------------


def base_environment() -> dict[str, str]:
    """Return the environment of every tool: fake credentials, no instance metadata, loopback unproxied.

    Every inherited AWS_* variable is dropped, AWS_CA_BUNDLE among them, because rclone 1.60.1 fails
    with LoadCustomCABundleError when a CA bundle is set for a plain-HTTP endpoint (seen here).
    """
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    environment.update(
        {key: value for key, value in benchlib.SAFE_ENVIRONMENT.items() if key.startswith("AWS_")}
    )
    environment.update(
        {
            "AWS_EC2_METADATA_DISABLED": "true",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "PYTHONIOENCODING": "utf-8",
            "LC_ALL": "C.UTF-8",
        }
    )
    return environment


CHECK_KINDS = {
    "missing_on_share": ONLY_IN_BUCKET,
    "only_on_share": ONLY_IN_DIRECTORY,
    "size_differs": SIZE_DIFFERS,
}


def parse_check(completed: subprocess.CompletedProcess) -> Found:
    found: set[tuple[str, str]] = set()
    folders = 0
    for difference in json.loads(completed.stdout)["differences"]:
        if difference["path"].endswith("/"):
            folders += 1
            continue
        kind = CHECK_KINDS.get(difference["kind"])
        if kind is None:
            raise ToolError(f"sgw-drift check reported {difference['kind']} for {difference['path']!r}")
        found.add((kind, difference["path"]))
    return found, folders


# `rclone check SRC DST --combined -` prefixes each file, as `rclone check --help` describes, with
# "+ " (only in SRC, the directory), "- " (only in DST, the bucket), "* " (in both, different),
# "= " (identical) or "! " (error).
RCLONE_KINDS = {"+": ONLY_IN_DIRECTORY, "-": ONLY_IN_BUCKET, "*": SIZE_DIFFERS}


def parse_rclone(completed: subprocess.CompletedProcess) -> Found:
    found: set[tuple[str, str]] = set()
    for line in completed.stdout.splitlines():
        if not line or line.startswith("= "):
            continue
        kind = RCLONE_KINDS.get(line[:1])
        if kind is None or line[1:2] != " ":
            raise ToolError(f"unexpected rclone check line: {line!r}")
        found.add((kind, line[2:]))
    return found, 0


def aws_parser(keys: set[str]) -> Callable[[subprocess.CompletedProcess], Found]:
    """Map `aws s3 sync --dryrun` lines to differences. An upload of an existing key is a size change."""
    bucket_url = f"s3://{BUCKET}/"
    upload = "(dryrun) upload: "
    delete = f"(dryrun) delete: {bucket_url}"
    destination = f" to {bucket_url}"

    def parse(completed: subprocess.CompletedProcess) -> Found:
        found: set[tuple[str, str]] = set()
        for line in completed.stdout.splitlines():
            if line.startswith(upload) and destination in line:
                path = line.rsplit(destination, 1)[1]
                found.add((SIZE_DIFFERS if path in keys else ONLY_IN_DIRECTORY, path))
            elif line.startswith(delete):
                found.add((ONLY_IN_BUCKET, line[len(delete) :]))
            elif line.strip():
                raise ToolError(f"unexpected aws s3 sync line: {line!r}")
        return found, 0

    return parse


def parse_nothing(completed: subprocess.CompletedProcess) -> Found:
    return set(), 0


LIST_ONLY = """
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
pages = s3.get_paginator("list_objects_v2").paginate(Bucket=sys.argv[2])
print(sum(len(page.get("Contents", [])) for page in pages))
"""


def find_aws_cli(explicit: str | None) -> tuple[str | None, str]:
    """Return the aws executable and where it comes from, installing awscli into `.bench/` if missing."""
    if explicit:
        return explicit, f"given with --aws-cli: {explicit}"
    executable = AWSCLI_VENV / "bin" / "aws"
    if executable.exists():
        return str(executable), "awscli from PyPI in .bench/awscli"
    print(f"check_peers: installing awscli into {AWSCLI_VENV} (first use)", file=sys.stderr)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(AWSCLI_VENV)], check=True, capture_output=True)
        subprocess.run(
            [str(AWSCLI_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "awscli"],
            check=True,
            capture_output=True,
            timeout=600,
        )
    except subprocess.CalledProcessError as error:
        shutil.rmtree(AWSCLI_VENV, ignore_errors=True)  # retried on the next run
        return None, f"installing awscli failed: {error.stderr.decode(errors='replace').strip()[-300:]}"
    except subprocess.TimeoutExpired:
        shutil.rmtree(AWSCLI_VENV, ignore_errors=True)
        return None, "installing awscli timed out after 600 s"
    return str(executable), "awscli from PyPI in .bench/awscli"


def version_of(command: list[str]) -> str:
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    except OSError as error:
        return f"unknown ({error})"
    output = (completed.stdout or completed.stderr).strip()
    return output.splitlines()[0] if completed.returncode == 0 and output else "unknown"


def build_tools(
    endpoint: str, directory: Path, tree: Tree, work: Path, aws_cli: str | None
) -> tuple[list[Tool], dict[str, str]]:
    """Return the tools to time, sgw-drift check first, and why each missing peer is skipped."""
    environment = base_environment()
    skipped: dict[str, str] = {}
    command = [sys.executable, "-m", "sgw_drift.cli", "check", "--endpoint-url", endpoint]
    command += ["--bucket", BUCKET, "--path", str(directory), "--json"]
    display = f"sgw-drift check --endpoint-url URL --bucket {BUCKET} --path DIR --json"
    # Exit status 1 means drift found, which the tree always has.
    tools = [Tool("sgw_drift_check", command, display, environment, parse_check, ok_codes=(1,))]

    rclone = shutil.which("rclone")
    if rclone is None:
        reason = "rclone is not installed; install Debian's package with `apt-get install -y rclone`"
        skipped["rclone_check"] = skipped["rclone_check_fast_list"] = reason
    else:
        config = work / "rclone.conf"
        config.write_text("", encoding="utf-8")  # empty: the remote comes from the environment
        rclone_environment = {
            **environment,
            f"RCLONE_CONFIG_{REMOTE}_TYPE": "s3",
            f"RCLONE_CONFIG_{REMOTE}_PROVIDER": "Other",
            f"RCLONE_CONFIG_{REMOTE}_ENDPOINT": endpoint,
            f"RCLONE_CONFIG_{REMOTE}_ACCESS_KEY_ID": benchlib.SAFE_ENVIRONMENT["AWS_ACCESS_KEY_ID"],
            f"RCLONE_CONFIG_{REMOTE}_SECRET_ACCESS_KEY": benchlib.SAFE_ENVIRONMENT["AWS_SECRET_ACCESS_KEY"],
            f"RCLONE_CONFIG_{REMOTE}_REGION": REGION,
            f"RCLONE_CONFIG_{REMOTE}_FORCE_PATH_STYLE": "true",
        }
        arguments = ["check", str(directory), f"{REMOTE}:{BUCKET}", "--size-only", "--combined", "-"]
        command = [rclone, "--config", str(config), *arguments]
        display = f"rclone check DIR {REMOTE}:{BUCKET} --size-only --combined -"
        # rclone check exits with 1 when it finds differences.
        tools.append(Tool("rclone_check", command, display, rclone_environment, parse_rclone, ok_codes=(1,)))
        tools.append(
            Tool(
                "rclone_check_fast_list",
                [*command, "--fast-list"],
                f"{display} --fast-list",
                rclone_environment,
                parse_rclone,
                ok_codes=(1,),
            )
        )

    if aws_cli is None:
        skipped["aws_s3_sync_dryrun"] = "aws-cli is not available (see the message above)"
    else:
        command = [aws_cli, "--endpoint-url", endpoint, "s3", "sync", str(directory), f"s3://{BUCKET}"]
        command += ["--dryrun", "--delete"]
        display = f"aws --endpoint-url URL s3 sync DIR s3://{BUCKET} --dryrun --delete"
        parse = aws_parser(set(tree.objects))
        tools.append(Tool("aws_s3_sync_dryrun", command, display, environment, parse, ok_codes=(0,)))

    tools.append(
        Tool(
            "boto3_listing",
            [sys.executable, "-c", LIST_ONLY, endpoint, BUCKET],
            "python -c '<list_objects_v2 paginator over the bucket>' (a floor, not a peer)",
            environment,
            parse_nothing,
            ok_codes=(0,),
            finds_differences=False,
        )
    )
    return tools, skipped


def run_tool(tool: Tool) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    completed = subprocess.run(
        tool.command,
        env=tool.environment,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TOOL_TIMEOUT_SECONDS,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if completed.returncode not in tool.ok_codes:
        raise ToolError(
            f"{tool.name} exited with {completed.returncode}, expected one of {tool.ok_codes}: "
            f"{completed.stderr.strip()[-1500:]}"
        )
    return elapsed, completed


# The run ------------------------------------------------------------------------------------------------


def summarize(
    tool: Tool, completed: subprocess.CompletedProcess, tree: Tree, check_found: set[tuple[str, str]] | None
) -> dict:
    """Return a tool's times and, for a peer, what it found against the injected drift and check."""
    result: dict = {
        "command": tool.display_command,
        "seconds": [round(value, 3) for value in tool.seconds],
        "median_seconds": round(statistics.median(tool.seconds), 3),
    }
    if not tool.finds_differences:
        return result
    found, folders = tool.parse(completed)
    result.update(
        {
            "found": {kind: sum(1 for item in found if item[0] == kind) for kind in KINDS},
            "folders_reported": folders,
            "matches_injected_drift": found == tree.expected,
            "same_as_check": None if check_found is None else found == check_found,
            "missed": sorted(path for _, path in tree.expected - found)[:5],
            "unexpected": sorted(path for _, path in found - tree.expected)[:5],
        }
    )
    return result


def time_tools(tools: list[Tool], *, runs: int, warmups: int) -> dict[str, subprocess.CompletedProcess]:
    """Run every tool `warmups + runs` times, in turn, and return each one's last output."""
    last: dict[str, subprocess.CompletedProcess] = {}
    for round_number in range(warmups + runs):
        for tool in tools:
            elapsed, completed = run_tool(tool)
            if round_number >= warmups:
                tool.seconds.append(elapsed)
            last[tool.name] = completed
    return last


def run(*, objects: int, runs: int, warmups: int, seed: int, aws_cli: str | None) -> dict:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # it logs one line per request otherwise
    started = time.perf_counter()
    load_before = os.getloadavg()
    tree = make_tree(objects, seed)
    aws_executable, aws_source = find_aws_cli(aws_cli)
    if aws_executable is None:
        print(f"check_peers: skipping aws-cli: {aws_source}", file=sys.stderr)

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        upload_seconds = upload(endpoint, tree, threads=UPLOAD_THREADS)
        with tempfile.TemporaryDirectory(prefix="check-peers-") as work_name:
            work = Path(work_name)
            directory = work / "share"
            write_directory(directory, tree)
            tools, skipped = build_tools(endpoint, directory, tree, work, aws_executable)
            for name, reason in skipped.items():
                print(f"check_peers: skipping {name}: {reason}", file=sys.stderr)
            last = time_tools(tools, runs=runs, warmups=warmups)
    finally:
        server.stop()

    check_found, _ = parse_check(last["sgw_drift_check"])
    results = {
        tool.name: summarize(tool, last[tool.name], tree, None if tool is tools[0] else check_found)
        for tool in tools
    }
    check_median = results["sgw_drift_check"]["median_seconds"]
    for result in results.values():
        result["check_to_tool_ratio"] = round(check_median / result["median_seconds"], 2)
    for name, reason in skipped.items():
        results[name] = {"skipped": reason}

    return {
        "benchmark": "check_peers",
        "machine": benchlib.machine(),
        "load_average_1_min": {"before": round(load_before[0], 2), "after": round(os.getloadavg()[0], 2)},
        "seed": seed,
        "size": {
            "objects": objects,
            "local_files": len(tree.local),
            "folders": len({key.rsplit("/", 1)[0] for key in tree.objects}),
            "upload_seconds": round(upload_seconds, 1),
        },
        "drift": {
            **{kind: sum(1 for item in tree.expected if item[0] == kind) for kind in KINDS},
            "folder_missing_locally": tree.missing_folder,
            "empty_folder_only_locally": tree.extra_empty_folder,
            "same_size_edits_not_counted_as_drift": len(tree.same_size_edits),
        },
        "runs": runs,
        "warmups": warmups,
        "versions": versions(tools, aws_source),
        "results": results,
        "targets": targets(results),
        "wall_seconds": round(time.perf_counter() - started, 1),
    }


def versions(tools: list[Tool], aws_source: str) -> dict[str, str]:
    import moto

    found = {"moto": moto.__version__}
    for tool in tools:
        if tool.name == "rclone_check":
            found["rclone"] = version_of([tool.command[0], "version"])
        elif tool.name == "aws_s3_sync_dryrun":
            found["aws_cli"] = f"{version_of([tool.command[0], '--version'])} ({aws_source})"
    return found


def targets(results: dict) -> dict:
    """Compare check's time with the faster rclone variant's (at most 1.0 times) and aws-cli's (0.5)."""
    found = {}
    check = results["sgw_drift_check"]["median_seconds"]
    rclone = [
        results[name]["median_seconds"]
        for name in ("rclone_check", "rclone_check_fast_list")
        if "median_seconds" in results[name]
    ]
    if rclone:
        ratio = round(check / min(rclone), 2)
        found["at_most_1_0x_rclone"] = (ratio <= 1.0, ratio, 1.0)
    if "median_seconds" in results["aws_s3_sync_dryrun"]:
        ratio = round(check / results["aws_s3_sync_dryrun"]["median_seconds"], 2)
        found["at_most_0_5x_aws_cli"] = (ratio <= 0.5, ratio, 0.5)
    return found


def report_lines(report: dict) -> list[str]:
    size, drift = report["size"], report["drift"]
    lines = [
        f"seed {report['seed']}; {size['objects']:,} objects in {size['folders']} folders, "
        f"uploaded in {size['upload_seconds']} s; {size['local_files']:,} local files",
        f"drift: {drift}",
        f"versions: {report['versions']}",
        f"{report['runs']} timed run(s) per tool after {report['warmups']} warm-up(s); "
        f"1-minute load average {report['load_average_1_min']}",
        "",
    ]
    rows = []
    for name, result in report["results"].items():
        if "skipped" in result:
            rows.append([name, None, None, "skipped", None, None])
            continue
        found = result.get("found")
        rows.append(
            [
                name,
                result["median_seconds"],
                result["check_to_tool_ratio"],
                "-" if found is None else " / ".join(str(found[kind]) for kind in KINDS),
                yes_no(result.get("matches_injected_drift")),
                yes_no(result.get("same_as_check")),
            ]
        )
    headers = ["tool", "median s", "check / tool", "bucket / dir / size", "injected", "same as check"]
    lines += benchlib.table(rows, headers)
    lines += ["", "commands:"]
    lines += [
        f"  {name}: {result.get('command', result.get('skipped'))}"
        for name, result in report["results"].items()
    ]
    lines += ["", "targets:"]
    for name, (met, measured, target) in report["targets"].items():
        lines.append(f"  {'met   ' if met else 'MISSED'} {name}: measured {measured}, target {target}")
    lines.append(f"wall time {report['wall_seconds']} s")
    return lines


def yes_no(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--smoke", action="store_true", help="run the small size used by the test suite")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the report")
    parser.add_argument(
        "--objects", type=int, help="objects in the bucket (default 20,000; 600 with --smoke)"
    )
    parser.add_argument("--runs", type=int, help="timed runs per tool (default 3; 1 with --smoke)")
    parser.add_argument("--seed", type=int, default=5, help="seed of the sizes and the drift")
    parser.add_argument("--aws-cli", help="aws executable to use instead of the one in .bench/awscli")
    arguments = parser.parse_args(argv)
    objects = arguments.objects if arguments.objects is not None else (600 if arguments.smoke else 20_000)
    if objects < 2 * FILES_PER_FOLDER:
        parser.error(f"--objects must be at least {2 * FILES_PER_FOLDER}, got {objects}")
    runs = arguments.runs if arguments.runs is not None else (1 if arguments.smoke else 3)
    if runs < 1:
        parser.error(f"--runs must be at least 1, got {runs}")
    if arguments.aws_cli and shutil.which(arguments.aws_cli) is None:
        parser.error(f"--aws-cli {arguments.aws_cli!r} is not an executable file")
    report = run(
        objects=objects,
        runs=runs,
        warmups=0 if arguments.smoke else 1,
        seed=arguments.seed,
        aws_cli=arguments.aws_cli,
    )
    benchlib.emit(report, as_json=arguments.json, lines=report_lines(report))
    mismatched = [
        name for name, result in report["results"].items() if result.get("matches_injected_drift") is False
    ]
    for name in mismatched:
        result = report["results"][name]
        print(
            f"check_peers: {name} did not find the injected drift: missed {result['missed']}, "
            f"unexpected {result['unexpected']}",
            file=sys.stderr,
        )
    return 1 if mismatched else 0


if __name__ == "__main__":
    sys.exit(main())
