"""`sgw-drift check` against a moto server on 127.0.0.1 and a temporary directory, and in-process."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from sgw_drift import check as check_module
from sgw_drift.check import core as check_core
from sgw_drift.cli import build_parser
from sgw_drift.sandbox import Sandbox
from sgw_drift.sandbox.mounthost import EmulatedMountHost

REGION = "ap-northeast-1"
BUCKET = "check-bucket"
OLD = time.time() - 3600  # older than any settle window
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


@pytest.fixture(scope="module")
def moto_server():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(moto_server):
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_server,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    yield s3
    for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    s3.delete_bucket(Bucket=BUCKET)


def mirror(s3, root: Path, files: dict[str, bytes]) -> None:
    """Put `files` in the bucket under projects/ and in `root`, as a share that is in sync would show."""
    for path, body in files.items():
        s3.put_object(Bucket=BUCKET, Key=f"projects/{path}", Body=body)
        local = root / path
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(body)
        os.utime(local, (OLD, OLD))


def run_cli(
    moto_server: str,
    *arguments: str,
    environment: dict[str, str] | None = None,
    text: bool = True,
) -> subprocess.CompletedProcess:
    """Run `sgw-drift check --endpoint-url moto_server ...` with fake credentials, or with `environment`."""
    base = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "PYTHONIO"))}
    return subprocess.run(
        [sys.executable, "-m", "sgw_drift.cli", "check", "--endpoint-url", moto_server, *arguments],
        capture_output=True,
        text=text,
        env={**base, **(CREDENTIALS if environment is None else environment)},
        timeout=120,
        check=False,
    )


FILES = {"design/spec.md": b"# spec\n", "design/図面.png": b"\x89PNG", "notes.txt": b"hello"}


def test_check_clean_exits_0(moto_server, bucket, tmp_path):
    mirror(bucket, tmp_path, FILES)

    result = run_cli(moto_server, "--bucket", BUCKET, "--prefix", "projects", "--path", str(tmp_path))

    assert result.returncode == 0, result.stderr
    assert "Result: no drift." in result.stdout
    assert result.stderr == ""  # no progress output when stderr is not a terminal


def test_check_drift_exits_1_with_table(moto_server, bucket, tmp_path):
    mirror(bucket, tmp_path, FILES)
    bucket.put_object(Bucket=BUCKET, Key="projects/design/新しい 報告.md", Body=b"direct")
    (tmp_path / "notes.txt").unlink()

    result = run_cli(moto_server, "--bucket", BUCKET, "--prefix", "projects/", "--path", str(tmp_path))

    assert result.returncode == 1, result.stderr
    assert "missing_on_share" in result.stdout
    assert "design/新しい 報告.md" in result.stdout
    assert "2 difference(s) are drift" in result.stdout


def test_check_json_shape(moto_server, bucket, tmp_path):
    mirror(bucket, tmp_path, FILES)
    bucket.put_object(Bucket=BUCKET, Key="projects/design/spec.md", Body=b"# spec, longer now\n")
    (tmp_path / "only-local.txt").write_bytes(b"x")
    os.utime(tmp_path / "only-local.txt", (OLD, OLD))

    result = run_cli(
        moto_server, "--bucket", BUCKET, "--prefix", "projects", "--path", str(tmp_path), "--json"
    )

    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == {
        "version",
        "checked_at",
        "share_arn",
        "bucket",
        "prefix",
        "share_side",
        "folder",
        "clean",
        "counts",
        "differences",
        "refresh",
    }
    assert document["version"] == 1
    assert document["bucket"] == BUCKET
    assert document["prefix"] == "projects/"
    assert document["share_arn"] is None
    assert document["share_side"] == {"type": "local", "path": str(tmp_path)}
    assert document["clean"] is False
    assert document["counts"] == {"only_on_share": 1, "size_differs": 1}
    assert document["refresh"] is None
    by_path = {difference["path"]: difference for difference in document["differences"]}
    assert by_path["design/spec.md"] == {
        "kind": "size_differs",
        "drift": True,
        "path": "design/spec.md",
        "bucket": {"is_dir": False, "size": 19, "mtime": by_path["design/spec.md"]["bucket"]["mtime"]},
        "share": {"is_dir": False, "size": 7, "mtime": pytest.approx(OLD)},
        "reason": None,
    }
    assert by_path["only-local.txt"]["bucket"] is None


def test_check_folder_only(moto_server, bucket, tmp_path):
    mirror(bucket, tmp_path, FILES)
    bucket.put_object(Bucket=BUCKET, Key="projects/elsewhere/new.txt", Body=b"x")

    folder = run_cli(
        moto_server,
        "--bucket",
        BUCKET,
        "--prefix",
        "projects",
        "--path",
        str(tmp_path),
        "--folder",
        "/design",
        "--json",
    )
    whole = run_cli(
        moto_server, "--bucket", BUCKET, "--prefix", "projects", "--path", str(tmp_path), "--json"
    )

    assert folder.returncode == 0, folder.stderr
    assert json.loads(folder.stdout)["folder"] == "/design"
    assert whole.returncode == 1


def test_check_missing_bucket_exits_2(moto_server, tmp_path):
    result = run_cli(moto_server, "--bucket", "no-such-bucket", "--path", str(tmp_path))

    assert result.returncode == 2
    assert "NoSuchBucket" in result.stderr
    assert "check --bucket and --region" in result.stderr


def test_check_bad_arguments_exit_2(moto_server, tmp_path):
    neither = run_cli(moto_server, "--bucket", BUCKET)
    both = run_cli(
        moto_server, "--bucket", BUCKET, "--path", str(tmp_path), "--instance-id", "i-0123456789abcdef0"
    )
    refresh = run_cli(moto_server, "--bucket", BUCKET, "--path", str(tmp_path), "--refresh")

    assert neither.returncode == 2
    assert both.returncode == 2
    assert refresh.returncode == 2
    assert "--refresh needs --share-arn and --state-table" in refresh.stderr


def test_check_missing_directory_exits_2(moto_server, bucket, tmp_path):
    result = run_cli(moto_server, "--bucket", BUCKET, "--path", str(tmp_path / "not-mounted"))

    assert result.returncode == 2
    assert "not-mounted" in result.stderr


BAD_NAME = b"bad\xffname.txt"  # not valid UTF-8, as a Linux share may hold


def test_check_json_escapes_undecodable_name(moto_server, bucket, tmp_path):
    mirror(bucket, tmp_path, FILES)
    bucket.put_object(Bucket=BUCKET, Key="projects/design/新しい.md", Body=b"direct")
    (tmp_path / os.fsdecode(BAD_NAME)).write_bytes(b"x")
    os.utime(tmp_path / os.fsdecode(BAD_NAME), (OLD, OLD))

    for encoding in ("", "utf-8"):
        environment = {**CREDENTIALS, "PYTHONIOENCODING": encoding} if encoding else CREDENTIALS
        result = run_cli(
            moto_server,
            *("--bucket", BUCKET, "--prefix", "projects", "--path", str(tmp_path), "--json"),
            environment=environment,
            text=False,
        )

        assert result.returncode == 1, result.stderr
        assert b"\xff" not in result.stdout
        assert b'"path": "bad\\udcffname.txt"' in result.stdout
        document = json.loads(result.stdout.decode("utf-8"))  # strict UTF-8, as jq and browsers read it
        paths = [item["path"] for item in document["differences"]]
        assert paths == ["bad\udcffname.txt", "design/新しい.md"]
        assert "design/新しい.md" in result.stdout.decode("utf-8")  # valid names stay readable


def test_check_table_on_ascii_stream(moto_server, bucket, tmp_path):
    mirror(bucket, tmp_path, FILES)
    bucket.put_object(Bucket=BUCKET, Key="projects/design/新しい.md", Body=b"direct")
    (tmp_path / os.fsdecode(BAD_NAME)).write_bytes(b"x")
    os.utime(tmp_path / os.fsdecode(BAD_NAME), (OLD, OLD))

    result = run_cli(
        moto_server,
        *("--bucket", BUCKET, "--prefix", "projects", "--path", str(tmp_path)),
        environment={**CREDENTIALS, "PYTHONIOENCODING": "ascii"},
    )

    assert result.returncode == 1, result.stderr
    assert "bad\\udcffname.txt" in result.stdout
    assert "design/\\u65b0\\u3057\\u3044.md" in result.stdout
    assert "2 difference(s) are drift" in result.stdout


@pytest.mark.parametrize("endpoint", ["not-a-url", "", "ftp://127.0.0.1"])
def test_check_invalid_endpoint_exits_2(moto_server, tmp_path, endpoint):
    result = run_cli(endpoint, "--bucket", BUCKET, "--path", str(tmp_path))

    assert result.returncode == 2
    assert result.stderr.startswith(f"sgw-drift check: error: invalid --endpoint-url {endpoint!r}")
    assert "http://127.0.0.1:5000" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_check_missing_credentials_explains_fix(moto_server, tmp_path):
    no_credentials = {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",  # never ask the instance metadata service
    }

    result = run_cli(moto_server, "--bucket", BUCKET, "--path", str(tmp_path), environment=no_credentials)

    assert result.returncode == 2
    assert "Unable to locate credentials" in result.stderr
    assert "configure AWS credentials" in result.stderr
    assert "with --endpoint-url any fake values work" in result.stderr


def test_check_absent_folder_exits_2(moto_server, bucket, tmp_path):
    mirror(bucket, tmp_path, FILES)

    result = run_cli(
        moto_server, "--bucket", BUCKET, "--prefix", "projects", "--path", str(tmp_path), "--folder", "/nope"
    )

    assert result.returncode == 2
    assert "--folder '/nope' not found in s3://check-bucket/projects/ nor on the share" in result.stderr


@pytest.mark.parametrize("folder", ["/notes.txt", "/design/spec.md"])
def test_check_folder_that_is_file_exits_2(moto_server, bucket, tmp_path, folder):
    mirror(bucket, tmp_path, FILES)

    result = run_cli(
        moto_server, "--bucket", BUCKET, "--prefix", "projects", "--path", str(tmp_path), "--folder", folder
    )

    assert result.returncode == 2
    assert f"--folder {folder!r} is a file, not a folder" in result.stderr


def test_check_folder_is_file_in_bucket_only(moto_server, bucket, tmp_path):
    bucket.put_object(Bucket=BUCKET, Key="projects/report.csv", Body=b"a")

    result = run_cli(
        moto_server,
        "--bucket",
        BUCKET,
        "--prefix",
        "projects",
        "--path",
        str(tmp_path),
        "--folder",
        "/report.csv",
    )

    assert result.returncode == 2
    assert "is a file, not a folder" in result.stderr


def test_check_folder_on_one_side_only(moto_server, bucket, tmp_path):
    bucket.put_object(Bucket=BUCKET, Key="projects/empty/", Body=b"")  # an empty folder's marker
    (tmp_path / "only-here").mkdir()

    in_bucket = run_cli(
        moto_server, "--bucket", BUCKET, "--prefix", "projects", "--path", str(tmp_path), "--folder", "/empty"
    )
    on_share = run_cli(
        moto_server,
        "--bucket",
        BUCKET,
        "--prefix",
        "projects",
        "--path",
        str(tmp_path),
        "--folder",
        "/only-here",
    )

    assert in_bucket.returncode == 0, in_bucket.stderr
    assert on_share.returncode == 0, on_share.stderr


def test_table_escapes_control_characters():
    assert check_module.printable("a\nb\tc") == "a\\nb\\tc"
    assert check_module.printable("bad\udcff") == "bad\\udcff"
    assert check_module.printable("日本語 ok") == "日本語 ok"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_terminal():
    terminal, pipe = Terminal(), io.StringIO()
    entries = [object()] * 5

    for stream in (terminal, pipe):
        progress = check_module.Progress(stream, interval=0)
        assert len(list(progress.count("bucket", entries))) == 5
        progress.done()

    assert "bucket 5 entries" in terminal.getvalue()
    assert terminal.getvalue().endswith("\n")
    assert pipe.getvalue() == ""


# In-process: Storage Gateway (emulator) for --share-arn and --refresh, Run Command (emulated mount host).

TABLE = "sgw-drift-state"


@pytest.fixture
def box():
    with Sandbox() as sandbox:
        sandbox.create_bucket("demo-bucket")
        sandbox.create_bucket("listing-output")
        sandbox.share_arn = sandbox.add_share(
            sandbox.add_gateway(gateway_id="sgw-12A3456B"), "demo-bucket", share_id="share-1A2B3C4D"
        )
        sandbox.start()
        yield sandbox


def run_in_process(box: Sandbox, *arguments: str, ssm=None) -> tuple[int, str, str]:
    parsed = build_parser().parse_args(["check", *arguments])
    stdout, stderr = io.StringIO(), io.StringIO()
    code = check_module.run(
        parsed, storagegateway=box.gateway.client(), ssm=ssm, stdout=stdout, stderr=stderr
    )
    return code, stdout.getvalue(), stderr.getvalue()


def test_check_refresh_requests_minimal_refresh(box, tmp_path):
    box.write_through(box.share_arn, "reports/2026/q1.csv", b"a,b\n")
    (tmp_path / "reports" / "2026").mkdir(parents=True)
    box.s3.put_object(Bucket="demo-bucket", Key="reports/2026/q2.csv", Body=b"c,d\n")  # direct edit
    box.s3.put_object(Bucket="demo-bucket", Key="reports/2026/q1.csv", Body=b"a,b\n")
    (tmp_path / "reports" / "2026" / "q1.csv").write_bytes(b"a,b\n")

    code, out, err = run_in_process(
        box,
        "--share-arn",
        box.share_arn,
        "--path",
        str(tmp_path),
        "--json",
        "--refresh",
        "--state-table",
        TABLE,
    )

    assert code == 1, err
    refresh = json.loads(out)["refresh"]
    assert [plan["folders"] for plan in refresh["requested"]] == [["/reports/2026"]]
    assert refresh["requested"][0]["recursive"] is False
    assert refresh["requested"][0]["notification_id"]
    assert [call.folder_list for call in box.refresh_calls()] == [["/reports/2026"]]

    # A second run within 60 s keeps the pipeline's spacing rule: the refresh is deferred.
    code, out, _ = run_in_process(
        box,
        "--share-arn",
        box.share_arn,
        "--path",
        str(tmp_path),
        "--json",
        "--refresh",
        "--state-table",
        TABLE,
    )
    assert json.loads(out)["refresh"]["deferred"][0]["folders"] == ["/reports/2026"]
    assert len(box.refresh_calls()) == 1


def test_check_refresh_targets_nearest_shown_folder(box, tmp_path):
    (tmp_path / "existing").mkdir()
    box.s3.put_object(Bucket="demo-bucket", Key="brand/new/folder/file.txt", Body=b"x")

    code, out, _ = run_in_process(
        box,
        "--share-arn",
        box.share_arn,
        "--path",
        str(tmp_path),
        "--json",
        "--refresh",
        "--state-table",
        TABLE,
    )

    assert code == 1
    assert json.loads(out)["refresh"]["requested"][0]["folders"] == ["/"]


def test_check_through_run_command(box):
    host = EmulatedMountHost(box.gateway, box.s3, listing_document="sgw-drift-ShareListingDocument-X")
    host.mount("i-0123456789abcdef0", box.share_arn, "/storage")
    box.write_through(box.share_arn, "team/a.txt", b"through the share")
    box.s3.put_object(Bucket="demo-bucket", Key="team/b.txt", Body=b"direct")

    code, out, err = run_in_process(
        box,
        "--share-arn",
        box.share_arn,
        "--instance-id",
        "i-0123456789abcdef0",
        "--mount-path",
        "/storage",
        "--document",
        "sgw-drift-ShareListingDocument-X",
        "--output-bucket",
        "listing-output",
        "--json",
        "--settle-seconds",
        "0",
        ssm=host,
    )

    assert code == 1, err
    document = json.loads(out)
    assert document["share_side"] == {
        "type": "run_command",
        "instance_id": "i-0123456789abcdef0",
        "mount_path": "/storage",
    }
    assert [(item["kind"], item["path"]) for item in document["differences"]] == [
        ("missing_on_share", "team/b.txt")
    ]
    assert host.sent[0]["Parameters"]["Recursive"] == ["true"]


def test_check_failed_run_command_listing_exits_2(box):
    host = EmulatedMountHost(box.gateway, box.s3, listing_document="doc-x")
    host.mount("i-0123456789abcdef0", box.share_arn, "/elsewhere")  # not the mount path asked for

    code, out, err = run_in_process(
        box,
        "--share-arn",
        box.share_arn,
        "--instance-id",
        "i-0123456789abcdef0",
        "--mount-path",
        "/storage",
        "--document",
        "doc-x",
        "--output-bucket",
        "listing-output",
        ssm=host,
    )

    assert code == 2
    assert out == ""
    assert "not-a-mount-point" in err


RUN_COMMAND_OPTIONS = (
    "--instance-id",
    "i-0123456789abcdef0",
    "--mount-path",
    "/storage",
    "--document",
    "doc-x",
    "--output-bucket",
    "listing-output",
)


class UnreadableOutputHost(EmulatedMountHost):
    """A mount host whose SSM agent runs the listing but leaves no readable output in the bucket."""

    blank_url: bool = False

    def send_command(self, **request) -> dict:
        response = super().send_command(**request)
        # The agent could not upload (no s3:PutObject): the object the output URL names is absent.
        for item in self.s3.list_objects_v2(Bucket=request["OutputS3BucketName"]).get("Contents", []):
            self.s3.delete_object(Bucket=request["OutputS3BucketName"], Key=item["Key"])
        return response

    def get_command_invocation(self, **request) -> dict:
        invocation = super().get_command_invocation(**request)
        if self.blank_url:
            invocation["StandardOutputUrl"] = ""
        return invocation


@pytest.mark.parametrize("blank_url", [False, True])
def test_check_missing_listing_output_names_fix(box, blank_url):
    host = UnreadableOutputHost(box.gateway, box.s3, listing_document="doc-x")
    host.blank_url = blank_url
    host.mount("i-0123456789abcdef0", box.share_arn, "/storage")

    code, out, err = run_in_process(box, "--share-arn", box.share_arn, *RUN_COMMAND_OPTIONS, ssm=host)

    assert code == 2
    assert out == ""
    assert "instance profile of i-0123456789abcdef0 allows s3:PutObject on bucket listing-output" in err
    assert err.count("\n") == 1


def test_check_absent_folder_through_run_command(box):
    host = EmulatedMountHost(box.gateway, box.s3, listing_document="doc-x")
    host.mount("i-0123456789abcdef0", box.share_arn, "/storage")
    box.write_through(box.share_arn, "team/a.txt", b"through the share")

    absent = run_in_process(
        box, "--share-arn", box.share_arn, *RUN_COMMAND_OPTIONS, "--folder", "/nope", ssm=host
    )
    present = run_in_process(
        box, "--share-arn", box.share_arn, *RUN_COMMAND_OPTIONS, "--folder", "/team", ssm=host
    )

    assert absent[0] == 2
    assert "--folder '/nope' not found in s3://demo-bucket/ nor on the share" in absent[2]
    assert present[0] == 0, present[2]


def test_check_unexpected_error_exits_2(box, tmp_path, monkeypatch):
    def broken_compare(*_, **__):
        raise RuntimeError("comparison broke")

    monkeypatch.setattr(check_core, "compare", broken_compare)

    code, out, err = run_in_process(box, "--share-arn", box.share_arn, "--path", str(tmp_path))
    debug_code, _, debug_err = run_in_process(
        box, "--share-arn", box.share_arn, "--path", str(tmp_path), "--debug"
    )

    assert code == 2
    assert out == ""
    assert err.startswith("sgw-drift check: error: unexpected RuntimeError: comparison broke.")
    assert "rerun with --debug" in err
    assert "Traceback" not in err
    assert debug_code == 2
    assert "Traceback (most recent call last)" in debug_err
    assert "unexpected RuntimeError: comparison broke" in debug_err
