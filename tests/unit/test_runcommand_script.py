"""The listing script of template.yaml, run with sh against a temporary directory, and its output parser."""

from __future__ import annotations

import os
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from cfnlint.decode import cfn_yaml

from sgw_drift.listing import ListingError
from sgw_drift.mountlisting import document_parameters, encode_text, parse_output

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
SHELLS = [shell for shell in ("dash", "bash") if shutil.which(shell)]

HARD_NAMES = [
    "new\nline.txt",
    "tab\there.txt",
    'double"quote.txt',
    "single'quote.txt",
    "$(touch injected).txt",
    "`touch injected`.txt",
    "営業部 議事録.txt",
    unicodedata.normalize("NFC", "café.txt"),
    unicodedata.normalize("NFD", "café.txt"),
    "; rm -rf x; #.txt",
    "-n.txt",
    "back\\slash.txt",
]
INVALID_UTF8_NAME = b"latin1-\xe9t\xe9.txt"


def listing_script() -> str:
    document = cfn_yaml.load(str(TEMPLATE))["Resources"]["ShareListingDocument"]["Properties"]["Content"]
    (step,) = document["mainSteps"]
    return "\n".join(step["inputs"]["runCommand"])


def run_listing(
    mount: Path,
    folders: list[str],
    *,
    recursive: bool = False,
    shell: str = "sh",
    is_mount_point: bool = True,
    tmp_path: Path,
) -> subprocess.CompletedProcess:
    """Run the document's script the way the SSM agent does: parameters substituted into its text."""
    script = listing_script()
    for name, values in document_parameters(str(mount), folders, recursive=recursive).items():
        script = script.replace("{{ " + name + " }}", values[0])
    stub = tmp_path / "bin"
    stub.mkdir(exist_ok=True)
    (stub / "mountpoint").write_text(f"#!/bin/sh\nexit {0 if is_mount_point else 1}\n")
    (stub / "mountpoint").chmod(0o755)
    environment = {**os.environ, "PATH": f"{stub}:{os.environ['PATH']}"}
    return subprocess.run(
        [shell, "-c", script], capture_output=True, env=environment, cwd=tmp_path, check=False
    )


@pytest.fixture
def share(tmp_path: Path) -> Path:
    root = tmp_path / "mnt" / "share"
    (root / "reports" / "2026").mkdir(parents=True)
    for name in HARD_NAMES:
        (root / name).write_bytes(b"x" * 3)
    (root / os.fsdecode(INVALID_UTF8_NAME)).write_bytes(b"12345")
    (root / "reports" / "2026" / "q1.csv").write_bytes(b"a,b\n")
    (root / "reports" / "2026" / "日本語.txt").write_bytes("本文".encode())
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_bytes(b"s")
    os.symlink(tmp_path / "outside", root / "escape")
    return root


@pytest.mark.parametrize("shell", SHELLS)
def test_script_lists_hard_names_exactly(share, tmp_path, shell):
    result = run_listing(share, ["/"], shell=shell, tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr
    listing = parse_output(result.stdout.decode("ascii"), ["/"], recursive=False)["/"]
    paths = {entry.path for entry in listing.entries}
    for name in HARD_NAMES:
        assert name in paths
    assert os.fsdecode(INVALID_UTF8_NAME) in paths
    assert "reports/" in paths
    assert not (tmp_path / "injected").exists()
    assert not (share / "injected").exists()


def test_script_keeps_composed_and_decomposed_names_apart(share, tmp_path):
    result = run_listing(share, ["/"], tmp_path=tmp_path)

    entries = parse_output(result.stdout.decode("ascii"), ["/"], recursive=False)["/"].entries
    cafe = [entry for entry in entries if unicodedata.normalize("NFC", entry.path) == "café.txt"]

    assert len(cafe) == 2
    assert {entry.path for entry in cafe} == {"café.txt", unicodedata.normalize("NFD", "café.txt")}


def test_script_reports_type_size_and_mtime(share, tmp_path):
    os.utime(share / "reports" / "2026" / "q1.csv", (1_780_000_000, 1_780_000_000.25))

    result = run_listing(share, ["/reports/2026"], tmp_path=tmp_path)

    entries = parse_output(result.stdout.decode("ascii"), ["/reports/2026"], recursive=False)[
        "/reports/2026"
    ].entries
    by_path = {entry.path: entry for entry in entries}
    assert by_path["reports/2026/q1.csv"].size == 4
    assert by_path["reports/2026/q1.csv"].mtime == pytest.approx(1_780_000_000.25)
    assert by_path["reports/2026/日本語.txt"].size == len("本文".encode())
    assert [entry.path for entry in entries] == sorted(by_path, key=lambda path: path.encode())


def test_script_lists_tree_recursively(share, tmp_path):
    result = run_listing(share, ["/"], recursive=True, tmp_path=tmp_path)

    entries = parse_output(result.stdout.decode("ascii"), ["/"], recursive=True)["/"].entries
    paths = [entry.path for entry in entries]
    assert "reports/" in paths
    assert "reports/2026/" in paths
    assert "reports/2026/q1.csv" in paths
    assert paths == sorted(paths, key=lambda path: path.encode("utf-8", "surrogateescape"))


def test_script_refuses_folders_outside_mount(share, tmp_path):
    folders = ["/escape", "/reports/../..", "/reports/2026"]

    result = run_listing(share, folders, tmp_path=tmp_path)

    sections = parse_output(result.stdout.decode("ascii"), folders, recursive=False)
    assert sections["/escape"].status == "refused"
    assert sections["/reports/../.."].status == "refused"
    assert sections["/reports/2026"].status == "ok"
    with pytest.raises(ListingError, match="outside the mount path"):
        sections["/escape"].result()


def test_script_reports_absent_folder_as_empty(share, tmp_path):
    result = run_listing(share, ["/no/such/folder"], tmp_path=tmp_path)

    sections = parse_output(result.stdout.decode("ascii"), ["/no/such/folder"], recursive=False)
    assert sections["/no/such/folder"].status == "absent"
    assert sections["/no/such/folder"].result() == []


def test_script_rejects_unmounted_path(share, tmp_path):
    result = run_listing(share, ["/"], is_mount_point=False, tmp_path=tmp_path)

    assert result.returncode != 0
    with pytest.raises(ListingError, match="not-a-mount-point"):
        parse_output(result.stdout.decode("ascii"), ["/"], recursive=False)


def test_script_output_over_24000_characters_parses_whole(share, tmp_path):
    big = share / "big"
    big.mkdir()
    for index in range(600):
        (big / f"file-{index:04d}-{'x' * 40}.dat").write_bytes(b"")

    result = run_listing(share, ["/big"], tmp_path=tmp_path)

    text = result.stdout.decode("ascii")
    assert len(text) > 24_000
    assert len(parse_output(text, ["/big"], recursive=False)["/big"].entries) == 600


@pytest.mark.parametrize("cut", [0.5, 0.9, 0.999])
def test_truncated_output_raises(share, tmp_path, cut):
    text = run_listing(share, ["/", "/reports/2026"], tmp_path=tmp_path).stdout.decode("ascii")

    with pytest.raises(ListingError, match="truncated|missing|no section"):
        parse_output(text[: int(len(text) * cut)], ["/", "/reports/2026"], recursive=False)


def test_output_without_header_raises():
    with pytest.raises(ListingError, match="header"):
        parse_output("total 0\n", ["/"], recursive=False)


def test_output_missing_requested_folder_raises(share, tmp_path):
    text = run_listing(share, ["/"], tmp_path=tmp_path).stdout.decode("ascii")

    with pytest.raises(ListingError, match="no section"):
        parse_output(text, ["/", "/reports"], recursive=False)


def test_parameters_are_base64_only():
    parameters = document_parameters("/storage", ["/", "/$(id)", "/a,b"], recursive=False)

    assert parameters["MountPath"] == [encode_text("/storage")]
    assert parameters["Folders"][0].count(",") == 2
    assert set(parameters["Folders"][0]) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=,"
    )
    assert parameters["Recursive"] == ["false"]


def test_parameters_reject_relative_folder():
    with pytest.raises(ValueError, match="expected '/'"):
        document_parameters("/storage", ["reports"], recursive=False)
