"""Settings read from the environment and per-share options read from SSM, validated at cold start."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

SHARE_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:storagegateway:[a-z0-9-]+:\d{12}:share/share-[0-9A-Za-z]+$")


class ConfigurationError(Exception):
    """The deployment is misconfigured; the message names the setting and the fix."""


class MountHost(BaseModel):
    """The EC2 instance that mounts a share, where its listing is taken."""

    model_config = ConfigDict(extra="forbid")

    instance_id: str = Field(pattern=r"^(i|mi)-[0-9a-f]{8,17}$")
    path: str = Field(pattern=r"^/[^\x00]*$", min_length=2)


class ShareOptions(BaseModel):
    """Options of one share in the SSM document."""

    model_config = ConfigDict(extra="forbid")

    mount: MountHost | None = None
    settle_seconds: int | None = Field(default=None, ge=0, le=86_400)


class SharesDocument(BaseModel):
    """The JSON document stored in the SSM parameter named by SHARES_PARAMETER_NAME."""

    model_config = ConfigDict(extra="forbid")

    shares: dict[str, ShareOptions] = Field(default_factory=dict)

    @field_validator("shares")
    @classmethod
    def _share_arns(cls, value: dict[str, ShareOptions]) -> dict[str, ShareOptions]:
        for arn in value:
            if not SHARE_ARN_PATTERN.match(arn):
                expected = "arn:aws:storagegateway:REGION:ACCOUNT:share/share-ID"
                raise ValueError(f"invalid file share ARN {arn!r}: expected {expected}")
        return value


class Settings(BaseModel):
    """Deployment settings from environment variables (set by template.yaml)."""

    state_table_name: str = Field(min_length=3)
    alert_topic_arn: str = Field(pattern=r"^arn:aws[a-z-]*:sns:")
    shares_parameter_name: str = Field(min_length=1)
    file_share_arns: tuple[str, ...]
    settle_seconds: int = Field(ge=0, le=86_400)
    refresh_slot_timeout_seconds: int = Field(ge=60, le=86_400)
    max_refresh_attempts: int = Field(ge=1, le=20)
    dead_letter_queue_url: str | None = None
    listing_document_name: str | None = Field(default=None, pattern=r"^[a-zA-Z0-9_\-.]{3,128}$")
    listing_output_bucket: str | None = Field(default=None, min_length=3, max_length=63)
    mount_instance_ids: tuple[str, ...] = ()
    sgw_drift_role_arns: tuple[str, ...] = ()
    # Alerts. The template always sets these; the defaults equal the template's parameter defaults.
    alert_language: Literal["en", "ja"] = "en"
    alert_sample_paths: int = Field(default=10, ge=1, le=100)
    alert_update_interval_minutes: int = Field(default=5, ge=1, le=1440)
    escalation_minutes: int = Field(default=60, ge=5, le=10_080)

    @field_validator("file_share_arns", "mount_instance_ids", "sgw_drift_role_arns", mode="before")
    @classmethod
    def _split_arns(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("file_share_arns")
    @classmethod
    def _check_arns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for arn in value:
            if not SHARE_ARN_PATTERN.match(arn):
                raise ValueError(f"invalid file share ARN {arn!r}")
        return value


ENVIRONMENT_VARIABLES = {
    "state_table_name": "STATE_TABLE_NAME",
    "alert_topic_arn": "ALERT_TOPIC_ARN",
    "shares_parameter_name": "SHARES_PARAMETER_NAME",
    "file_share_arns": "FILE_SHARE_ARNS",
    "settle_seconds": "SETTLE_SECONDS",
    "refresh_slot_timeout_seconds": "REFRESH_SLOT_TIMEOUT_SECONDS",
    "max_refresh_attempts": "MAX_REFRESH_ATTEMPTS",
    "dead_letter_queue_url": "DEAD_LETTER_QUEUE_URL",
    "listing_document_name": "LISTING_DOCUMENT_NAME",
    "listing_output_bucket": "LISTING_OUTPUT_BUCKET",
    "mount_instance_ids": "MOUNT_INSTANCE_IDS",
    "sgw_drift_role_arns": "SGW_DRIFT_ROLE_ARNS",
    "alert_language": "ALERT_LANGUAGE",
    "alert_sample_paths": "ALERT_SAMPLE_PATHS",
    "alert_update_interval_minutes": "ALERT_UPDATE_INTERVAL_MINUTES",
    "escalation_minutes": "ESCALATION_MINUTES",
}
OPTIONAL_VARIABLES = {
    "dead_letter_queue_url",
    "listing_document_name",
    "listing_output_bucket",
    "mount_instance_ids",
    "sgw_drift_role_arns",
    "alert_language",
    "alert_sample_paths",
    "alert_update_interval_minutes",
    "escalation_minutes",
}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the settings, raising ConfigurationError that names each bad variable."""
    environ = os.environ if environ is None else environ
    missing = [
        name
        for field, name in ENVIRONMENT_VARIABLES.items()
        if field not in OPTIONAL_VARIABLES and not environ.get(name)
    ]
    if missing:
        raise ConfigurationError(
            f"missing environment variables: {', '.join(missing)}; deploy with template.yaml, which sets them"
        )
    values = {field: environ[name] for field, name in ENVIRONMENT_VARIABLES.items() if environ.get(name)}
    try:
        return Settings.model_validate(values)
    except ValidationError as error:
        raise ConfigurationError(_describe(error, ENVIRONMENT_VARIABLES)) from error


def parse_shares_document(text: str, settings: Settings) -> SharesDocument:
    """Parse the SSM document and check that it names only shares the stack may refresh."""
    name = settings.shares_parameter_name
    try:
        document = SharesDocument.model_validate(json.loads(text))
    except json.JSONDecodeError as error:
        raise ConfigurationError(
            f"SSM parameter {name} is not valid JSON ({error}); fix its value"
        ) from error
    except ValidationError as error:
        raise ConfigurationError(f"SSM parameter {name}: {_describe(error)}") from error

    unknown = sorted(set(document.shares) - set(settings.file_share_arns))
    if unknown:
        raise ConfigurationError(
            f"SSM parameter {name} configures {', '.join(unknown)}, which the stack parameter FileShareArns "
            "does not list; add them to FileShareArns and redeploy, so the functions may refresh them"
        )
    _check_mounts(document, settings)
    return document


def _check_mounts(document: SharesDocument, settings: Settings) -> None:
    """Reject mount hosts that the functions may not send the listing document to."""
    name = settings.shares_parameter_name
    mounted = {arn: options.mount for arn, options in document.shares.items() if options.mount is not None}
    if not mounted or not settings.listing_document_name:
        return  # without the listing document no share is listed: every share runs unverified
    if not settings.listing_output_bucket:
        raise ConfigurationError(
            "LISTING_DOCUMENT_NAME is set but LISTING_OUTPUT_BUCKET is missing; deploy with template.yaml, "
            "which sets both"
        )
    allowed = set(settings.mount_instance_ids)
    outside = sorted({mount.instance_id for mount in mounted.values()} - allowed)
    if outside:
        raise ConfigurationError(
            f"SSM parameter {name} names mount hosts {', '.join(outside)}, which the stack parameter "
            "MountInstanceIds does not list; add them to MountInstanceIds and redeploy, so the functions "
            "may run the listing document there"
        )


def _describe(error: ValidationError, names: Mapping[str, str] | None = None) -> str:
    parts = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"])
        if names and item["loc"] and item["loc"][0] in names:
            location = names[str(item["loc"][0])]
        parts.append(f"{location}: {item['msg']} (got {item.get('input')!r})")
    return "; ".join(parts)
