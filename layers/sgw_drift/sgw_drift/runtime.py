"""Wiring: settings, AWS clients and the pipeline, built once per cold start.

Tests, benchmarks and the demo build a `Runtime` with their own clients, clock and share
lister and install it with `use_runtime`, so handlers run unchanged against moto and the
file gateway emulator.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import boto3
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.config import Config

from .alerts.publisher import AlertPublisher
from .bucket import BucketLister
from .clock import Clock, SystemClock, VirtualClock
from .config import ConfigurationError, Settings, load_settings, parse_shares_document
from .fleet import FleetWatch
from .gateway import GatewayAdapter
from .incidents import Incidents
from .listing import ShareLister
from .observability import logger
from .runcommand import RunCommandLister
from .scheduler import RefreshScheduler
from .service import DriftService
from .shares import Share, ShareRegistry, describe_shares
from .state import StateStore
from .verify import Verifier

# botocore's standard retry mode: exponential backoff with jitter on throttling and transient errors.
RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, user_agent_extra="sgw-drift/0.1")
SHARES_CACHE_SECONDS = 300


@dataclass
class Runtime:
    settings: Settings
    service: DriftService
    shares: list[Share]
    idempotency_store: DynamoDBPersistenceLayer
    sqs: object
    clock: Clock
    fleet: FleetWatch | None = None


def build_runtime(
    environ: Mapping[str, str] | None = None,
    *,
    session: boto3.session.Session | None = None,
    clock: Clock | None = None,
    share_lister: ShareLister | None = None,
    storagegateway=None,
    command_client=None,
) -> Runtime:
    """Build the pipeline from environment variables; raises ConfigurationError naming a bad setting.

    `command_client` is the SSM client for Run Command calls (SendCommand, GetCommandInvocation,
    ListCommands); tests pass an emulated mount host. Without `share_lister`, shares that have a
    mount host are listed through it with the stack's listing document.
    """
    settings = load_settings(environ)
    session = session or boto3.session.Session()
    clock = clock or SystemClock()

    def client(name: str):
        return session.client(name, config=RETRY_CONFIG)

    s3 = client("s3")
    storagegateway = storagegateway or client("storagegateway")
    document = parse_shares_document(_read_shares_parameter(client("ssm"), settings), settings)
    shares = describe_shares(storagegateway, settings.file_share_arns, document.shares)
    command_client = command_client or client("ssm")
    if share_lister is None:
        share_lister = _mount_lister(settings, shares, command_client, s3, clock)

    table = session.resource("dynamodb", config=RETRY_CONFIG).Table(settings.state_table_name)
    store = StateStore(table, clock)
    publisher = AlertPublisher(
        client("sns"), settings.alert_topic_arn, language=settings.alert_language, clock=clock
    )
    service = DriftService(
        registry=ShareRegistry(shares),
        store=store,
        scheduler=RefreshScheduler(
            store, GatewayAdapter(storagegateway), clock, slot_timeout=settings.refresh_slot_timeout_seconds
        ),
        verifier=Verifier(BucketLister(s3), share_lister, settle_seconds=settings.settle_seconds),
        incidents=Incidents(
            store,
            publisher,
            clock,
            max_samples=settings.alert_sample_paths,
            escalation_seconds=settings.escalation_minutes * 60,
            update_interval_seconds=settings.alert_update_interval_minutes * 60,
        ),
        s3_client=s3,
        clock=clock,
        max_attempts=settings.max_refresh_attempts,
    )
    idempotency_store = DynamoDBPersistenceLayer(
        table_name=settings.state_table_name,
        key_attr="pk",
        sort_key_attr="sk",
        boto3_client=client("dynamodb"),
    )
    fleet = FleetWatch(service, command_client, own_role_arns=settings.sgw_drift_role_arns)
    return Runtime(settings, service, shares, idempotency_store, client("sqs"), clock, fleet)


def _mount_lister(
    settings: Settings, shares: list[Share], command_client, s3, clock: Clock
) -> ShareLister | None:
    """Return a Run Command lister for the shares that have a mount host, or None when none has."""
    mounts = {share.arn: share.mount for share in shares if share.mount is not None}
    if not mounts:
        return None
    if not settings.listing_document_name or not settings.listing_output_bucket:
        logger.warning(
            "shares have mount hosts but LISTING_DOCUMENT_NAME is not set; they run unverified",
            share_count=len(mounts),
        )
        return None
    return RunCommandLister(
        command_client,
        s3,
        document_name=settings.listing_document_name,
        output_bucket=settings.listing_output_bucket,
        mounts=mounts,
        clock=clock,
        # Polling waits on the runtime's clock, so a virtual clock moves instead of the process sleeping.
        sleep=clock.advance if isinstance(clock, VirtualClock) else time.sleep,
    )


def _read_shares_parameter(ssm, settings: Settings) -> str:
    provider = SSMProvider(boto3_client=ssm)
    try:
        return provider.get(settings.shares_parameter_name, max_age=SHARES_CACHE_SECONDS)
    except GetParameterError as error:
        raise ConfigurationError(
            f"cannot read SSM parameter {settings.shares_parameter_name} ({error}); "
            "create it with the stack parameter ShareOptions or check SHARES_PARAMETER_NAME"
        ) from error


_current: Runtime | None = None


def get_runtime() -> Runtime:
    """Return the runtime, building it from the environment on first use (cold start)."""
    global _current
    if _current is None:
        _current = build_runtime()
    return _current


@contextmanager
def use_runtime(runtime: Runtime) -> Iterator[Runtime]:
    """Install `runtime` for the handlers while the block runs."""
    global _current
    previous, _current = _current, runtime
    try:
        yield runtime
    finally:
        _current = previous
