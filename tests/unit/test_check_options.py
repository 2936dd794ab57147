"""`sgw-drift check` option checks and error messages, which run before any AWS call."""

from __future__ import annotations

import io

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from sgw_drift import check as check_module
from sgw_drift.check import core as check_core
from sgw_drift.cli import build_parser
from sgw_drift.listing import ListingError

SHARE_ARN = "arn:aws:storagegateway:ap-northeast-1:123456789012:share/share-1A2B3C4D"
LOCAL = ("--bucket", "b-bucket", "--path", "/storage")
RUN_COMMAND = ("--document", "doc", "--output-bucket", "out-bucket")


class NoClients:
    """Stands in for check.core.Clients: these options must be rejected before any AWS client exists."""

    def __init__(self, *_, **__) -> None:
        raise AssertionError("the options passed validation and reached the AWS clients")


@pytest.fixture(autouse=True)
def no_aws_clients(monkeypatch):
    monkeypatch.setattr(check_core, "Clients", NoClients)


def run_check(*arguments: str) -> tuple[int, str, str]:
    parsed = build_parser().parse_args(["check", *arguments])
    stdout, stderr = io.StringIO(), io.StringIO()
    code = check_module.run(parsed, stdout=stdout, stderr=stderr)
    return code, stdout.getvalue(), stderr.getvalue()


REJECTED = [
    ((*LOCAL, "--settle-seconds", "-5"), "invalid --settle-seconds -5: expected 0 to 86400 seconds"),
    ((*LOCAL, "--settle-seconds", "86401"), "invalid --settle-seconds 86401"),
    ((*LOCAL, "--timeout", "-3"), "invalid --timeout -3: expected a number of seconds greater than 0"),
    ((*LOCAL, "--timeout", "0"), "invalid --timeout 0"),
    ((*LOCAL, "--timeout", "nan"), "invalid --timeout nan"),
    ((*LOCAL, "--slot-timeout-minutes", "-1"), "invalid --slot-timeout-minutes -1: expected 1 to 1440"),
    ((*LOCAL, "--slot-timeout-minutes", "0"), "invalid --slot-timeout-minutes 0"),
    ((*LOCAL, "--prefix", "/reports/"), "invalid --prefix '/reports/'"),
    ((*LOCAL, "--prefix", "/"), "drop --prefix to compare the whole bucket"),
    ((*LOCAL, "--share-arn", SHARE_ARN), "give --share-arn or --bucket and --prefix, not both"),
    (("--share-arn", SHARE_ARN, "--prefix", "p/", "--path", "/s"), "not both"),
    (("--share-arn", "not-an-arn", "--path", "/s"), "invalid --share-arn 'not-an-arn': expected arn:aws"),
    (("--share-arn", SHARE_ARN + "/x", "--path", "/s"), "invalid --share-arn"),
    ((*LOCAL, "--mount-path", "/storage"), "--mount-path is used only with --instance-id"),
    ((*LOCAL, *RUN_COMMAND), "--document, --output-bucket are used only with --instance-id"),
    ((*LOCAL, "--state-table", "t-table"), "--state-table is used only with --refresh"),
    ((*LOCAL, "--endpoint-url", "not-a-url"), "invalid --endpoint-url 'not-a-url'"),
    ((*LOCAL, "--endpoint-url", ""), "invalid --endpoint-url ''"),
    ((*LOCAL, "--endpoint-url", "http://"), "invalid --endpoint-url 'http://'"),
    (
        ("--share-arn", SHARE_ARN, "--path", "/s", "--endpoint-url", "http://127.0.0.1:5000"),
        "--share-arn cannot work with --endpoint-url",
    ),
    (
        (
            *("--share-arn", SHARE_ARN, "--path", "/s", "--refresh", "--state-table", "t-table"),
            *("--endpoint-url", "http://127.0.0.1:5000"),
        ),
        "--refresh cannot work with --endpoint-url",
    ),
    (
        (
            *("--bucket", "b-bucket", "--instance-id", "i-0123456789abcdef0", "--mount-path", "/s"),
            *RUN_COMMAND,
            *("--endpoint-url", "http://127.0.0.1:5000"),
        ),
        "--instance-id cannot work with --endpoint-url",
    ),
    (
        ("--bucket", "b-bucket", "--instance-id", "bad", "--mount-path", "/s", *RUN_COMMAND),
        "invalid --instance-id 'bad': expected an EC2 instance ID such as i-0123456789abcdef0",
    ),
    (
        ("--bucket", "b-bucket", "--instance-id", "i-0123456789abcdef0", "--mount-path", "s", *RUN_COMMAND),
        "invalid --mount-path 's': expected the absolute path",
    ),
]


@pytest.mark.parametrize(("arguments", "expected"), REJECTED)
def test_rejected_options_exit_2(arguments, expected):
    code, out, err = run_check(*arguments)

    assert code == 2
    assert out == ""
    assert expected in err
    assert err.count("\n") == 1, err  # one line: no traceback, no pydantic report


def test_endpoint_messages_name_replacement():
    _, _, share_arn = run_check("--share-arn", SHARE_ARN, "--path", "/s", "--endpoint-url", "http://h:1")
    _, _, refresh = run_check(
        *("--share-arn", SHARE_ARN, "--path", "/s", "--refresh", "--state-table", "t-table"),
        *("--endpoint-url", "http://h:1"),
    )

    assert "give --bucket and --prefix instead" in share_arn
    assert "compare with --bucket, --prefix and --path" in refresh


@pytest.mark.parametrize(
    "arguments",
    [
        (*LOCAL, "--settle-seconds", "0", "--timeout", "0.5", "--slot-timeout-minutes", "1"),
        (*LOCAL, "--settle-seconds", "86400", "--slot-timeout-minutes", "1440", "--prefix", "a/b/"),
        ("--share-arn", "arn:aws-cn:storagegateway:cn-north-1:123456789012:share/share-AB12", "--path", "/s"),
        (*LOCAL, "--endpoint-url", "https://localhost:4566"),
        ("--bucket", "b-bucket", "--instance-id", "mi-0123456789abcdef0", "--mount-path", "/s", *RUN_COMMAND),
    ],
)
def test_accepted_options(arguments):
    parsed = build_parser().parse_args(["check", *arguments])

    check_module._validate(parsed)


def test_help_shows_defaults(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["check", "--help"])
    text = " ".join(capsys.readouterr().out.split())

    assert "default: 120)" in text  # --settle-seconds
    assert "default: 600.0)" in text  # --timeout
    assert "default: 30)" in text  # --slot-timeout-minutes
    assert "default: the whole bucket)" in text  # --prefix
    assert "--debug" in text


def arguments_with(endpoint_url: str | None = None):
    return build_parser().parse_args(
        ["check", *LOCAL, *(["--endpoint-url", endpoint_url] if endpoint_url else [])]
    )


def test_missing_credentials_message():
    message = check_module.error_message(NoCredentialsError(), arguments_with("http://127.0.0.1:5000"))

    assert message.startswith("Unable to locate credentials; configure AWS credentials")
    assert "with --endpoint-url any fake values work" in message


def test_listing_error_from_missing_credentials():
    try:
        try:
            raise NoCredentialsError()
        except NoCredentialsError as error:
            raise ListingError(f"SendCommand to i-0123456789abcdef0 failed: {error}") from error
    except ListingError as error:
        message = check_module.error_message(error, arguments_with())

    assert message.startswith("SendCommand to i-0123456789abcdef0 failed: Unable to locate credentials;")
    assert "configure AWS credentials" in message


def test_unreachable_endpoint_message():
    error = EndpointConnectionError(endpoint_url="http://127.0.0.1:1/b-bucket")

    assert "check that a server listens at --endpoint-url http://127.0.0.1:1" in check_module.error_message(
        error, arguments_with("http://127.0.0.1:1")
    )
    assert "check the network connection and --region" in check_module.error_message(error, arguments_with())


def test_rejected_credentials_message():
    error = ClientError({"Error": {"Code": "ExpiredToken", "Message": "expired"}}, "ListObjectsV2")

    message = check_module.error_message(error, arguments_with())

    assert message.startswith("AWS request failed:")
    assert "AWS rejected the credentials" in message


def test_unexpected_error_message():
    message = check_module.error_message(KeyError("x"), arguments_with())

    assert message.startswith("unexpected KeyError: 'x'.")
    assert "rerun with --debug" in message
