"""Wiring: settings, AWS clients and the pipeline, built once per cold start.

Tests, benchmarks and the demo build a `Runtime` with their own clients, clock and share
lister and install it with `use_runtime`, so handlers run unchanged against moto and the
file gateway emulator.
"""

from __future__ import annotations

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
from .clock import Clock, SystemClock
from .config import ConfigurationError, Settings, load_settings, parse_shares_document
from .gateway import GatewayAdapter
from .incidents import Incidents
from .listing import ShareLister
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


def build_runtime(
    environ: Mapping[str, str] | None = None,
    *,
    session: boto3.session.Session | None = None,
    clock: Clock | None = None,
    share_lister: ShareLister | None = None,
    storagegateway=None,
) -> Runtime:
    """Build the pipeline from environment variables; raises ConfigurationError naming a bad setting."""
    settings = load_settings(environ)
    session = session or boto3.session.Session()
    clock = clock or SystemClock()

    def client(name: str):
        return session.client(name, config=RETRY_CONFIG)

    s3 = client("s3")
    storagegateway = storagegateway or client("storagegateway")
    document = parse_shares_document(_read_shares_parameter(client("ssm"), settings), settings)
    shares = describe_shares(storagegateway, settings.file_share_arns, document.shares)

    table = session.resource("dynamodb", config=RETRY_CONFIG).Table(settings.state_table_name)
    store = StateStore(table, clock)
    publisher = AlertPublisher(client("sns"), settings.alert_topic_arn)
    service = DriftService(
        registry=ShareRegistry(shares),
        store=store,
        scheduler=RefreshScheduler(store, GatewayAdapter(storagegateway), clock,
                                   slot_timeout=settings.refresh_slot_timeout_seconds),
        verifier=Verifier(BucketLister(s3), share_lister, settle_seconds=settings.settle_seconds),
        incidents=Incidents(store, publisher, clock),
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
    return Runtime(settings, service, shares, idempotency_store, client("sqs"), clock)


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
