"""`sgw-drift check` errors: the exception that stops the check, and the one-line message with the fix."""

from __future__ import annotations

import argparse

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    InvalidRegionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from ..config import ConfigurationError
from ..listing import ListingError

# Error codes with which AWS rejects the credentials themselves, not the request.
REJECTED_CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidAccessKeyId",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
    }
)


class CheckError(Exception):
    """The check could not run; the message names what failed and the fix."""


def error_message(error: Exception, arguments: argparse.Namespace) -> str:
    """Return the one-line message for an error that ended the check, with the fix where one is known."""
    if isinstance(error, CheckError | ConfigurationError):
        return str(error)
    cause = _aws_cause(error)
    hint = _aws_fix(cause, arguments) if cause is not None else None
    if isinstance(error, ListingError):
        return f"{error}; {hint}" if hint else str(error)
    if isinstance(error, ClientError):
        return f"AWS request failed: {error}" + (f"; {hint}" if hint else "")
    if isinstance(error, BotoCoreError):
        return f"{error}; {hint}" if hint else f"AWS request failed: {error}"
    return (
        f"unexpected {type(error).__name__}: {error}. This is a bug in sgw-drift check: "
        "rerun with --debug to print the traceback, and report it"
    )


def _aws_cause(error: BaseException) -> ClientError | BotoCoreError | None:
    """Return the botocore error that caused `error` (or is `error`), following `raise ... from`."""
    current: BaseException | None = error
    while current is not None:
        if isinstance(current, ClientError | BotoCoreError):
            return current
        current = current.__cause__
    return None


def _aws_fix(error: ClientError | BotoCoreError, arguments: argparse.Namespace) -> str | None:
    """Return what to do about a botocore error, or None when no specific fix is known."""
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return (
            "configure AWS credentials (aws configure, AWS_PROFILE or --profile, or AWS_ACCESS_KEY_ID "
            "and AWS_SECRET_ACCESS_KEY); with --endpoint-url any fake values work, such as "
            "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing"
        )
    if isinstance(error, ProfileNotFound):
        return "check --profile or AWS_PROFILE against the profiles in ~/.aws/config"
    if isinstance(error, NoRegionError):
        return "give --region or set AWS_DEFAULT_REGION"
    if isinstance(error, InvalidRegionError):
        return "give a Region code such as --region ap-northeast-1"
    if isinstance(error, EndpointConnectionError | ConnectTimeoutError):
        if arguments.endpoint_url:
            return f"check that a server listens at --endpoint-url {arguments.endpoint_url}"
        return "check the network connection and --region"
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code")
        if code in REJECTED_CREDENTIAL_CODES:
            return (
                "AWS rejected the credentials: renew them or configure valid ones (aws configure, --profile)"
            )
        if code in ("AccessDenied", "AccessDeniedException"):
            return f"the credentials are not allowed to call {error.operation_name}: ask for that permission"
    return None
