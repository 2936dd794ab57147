"""The Slack notifier: alert topic messages posted to a Slack incoming webhook as Block Kit.

The function subscribes to the alert topic with the Lambda protocol, so it receives the
structured JSON variant of each alert (and CloudWatch alarm notifications, which share the
topic). It reads the webhook URL from Secrets Manager through Powertools parameters with a
cache, posts with slack-sdk's `WebhookClient`, and retries 429 responses after the `Retry-After`
delay and 5xx responses with backoff, at most `MAX_RETRIES` times in all. A post that still
fails raises, so Lambda retries the asynchronous invocation and finally sends the event to the
function's on-failure destination (a dead-letter queue). Each SNS message is posted once: the
SNS `MessageId` is the Powertools idempotency key.

The webhook URL is a credential: it is never logged, never put in an exception message, and the
slack-sdk logger that receives it gets a filter that redacts it.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.error import URLError
from urllib.parse import urlsplit

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    BasePersistenceLayer,
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parser.models import SnsModel
from pydantic import BaseModel, Field, ValidationError
from slack_sdk.http_retry import RetryHandler, RetryState
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.webhook import WebhookClient

from ..observability import logger, metrics
from . import slack
from .model import SCHEMA, Alert, Language

MAX_RETRIES = 3  # retries of one post, 429 and 5xx together: at most four requests per invocation
MAX_RETRY_AFTER_SECONDS = 20  # a longer Retry-After is left to Lambda's own retry of the invocation
REQUEST_TIMEOUT_SECONDS = 10
SECRET_CACHE_SECONDS = 300
IDEMPOTENCY_SECONDS = 24 * 3600
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


class SlackConfigurationError(Exception):
    """The webhook secret is missing or does not contain a usable webhook URL."""


class SlackDeliveryError(Exception):
    """Slack did not accept a post after the retries; the message never contains the webhook URL."""

    def __init__(self, status: int | None, detail: str) -> None:
        super().__init__(
            f"Slack webhook post failed: status {status if status is not None else 'none'}: {detail}"
        )
        self.status = status


class MalformedNotification(ValueError):
    """The invocation is not an SNS event; retrying cannot fix it."""


# Retry handlers --------------------------------------------------------------------------------------


class _SleepingRetryHandler(RetryHandler):
    """A slack-sdk retry handler whose waits go through an injectable `sleep` and are logged."""

    def __init__(self, max_retry_count: int, sleep: Callable[[float], None]) -> None:
        super().__init__(
            max_retry_count=max_retry_count, interval_calculator=BackoffRetryIntervalCalculator(0.5)
        )
        self._sleep = sleep

    def _wait_seconds(self, state: RetryState, response: HttpResponse | None) -> float:
        return self.interval_calculator.calculate_sleep_duration(state.current_attempt)

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        wait = self._wait_seconds(state, response)
        logger.warning(
            "slack webhook post retried",
            status=response.status_code if response else None,
            attempt=state.current_attempt + 1,
            wait_seconds=round(wait, 2),
            error=type(error).__name__ if error else None,
        )
        state.next_attempt_requested = True
        self._sleep(wait)
        state.increment_current_attempt()


class RateLimitRetryHandler(_SleepingRetryHandler):
    """Retry a 429 response after the seconds its `Retry-After` header names.

    A delay longer than `max_wait` is not waited for: the post fails and Lambda retries the
    invocation later.
    """

    def __init__(self, max_retry_count: int, sleep: Callable[[float], None], max_wait: float) -> None:
        super().__init__(max_retry_count, sleep)
        self.max_wait = max_wait

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        return response is not None and response.status_code == 429 and retry_after(response) <= self.max_wait

    def _wait_seconds(self, state: RetryState, response: HttpResponse | None) -> float:
        return retry_after(response) if response is not None else 1.0


class ServerErrorRetryHandler(_SleepingRetryHandler):
    """Retry every 5xx response with exponential backoff.

    slack-sdk's built-in ServerErrorRetryHandler retries only 500 and 503.
    """

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        return response is not None and 500 <= response.status_code <= 599


class ConnectionRetryHandler(_SleepingRetryHandler):
    """Retry a request that failed before any HTTP response, such as a reset connection."""

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        return response is None and isinstance(error, URLError | ConnectionError | TimeoutError)


def retry_after(response: HttpResponse) -> float:
    """Seconds from the `Retry-After` header, or 1 when it is absent or invalid.

    slack-sdk passes each header as a list of values.
    """
    for name, values in response.headers.items():
        if name.lower() == "retry-after":
            value = values[0] if isinstance(values, list) else values
            try:
                return max(float(value), 0.0)
            except (TypeError, ValueError):
                return 1.0
    return 1.0


# The webhook -----------------------------------------------------------------------------------------


class _RedactFilter(logging.Filter):
    """Replace the webhook URL (and its secret path) in every record of the slack-sdk logger."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self._secrets = [url, urlsplit(url).path] if urlsplit(url).path not in ("", "/") else [url]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for secret in self._secrets:
            message = message.replace(secret, "[webhook URL]")
        record.msg, record.args = message, None
        return True


class _SecretStringFilter(logging.Filter):
    """Drop the text of any botocore log record that contains a `SecretString`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "SecretString" in record.getMessage():
            record.msg, record.args = "[message redacted: it contains a SecretString]", None
        return True


# botocore logs every response body at DEBUG, which would include the secret that contains the webhook
# URL whenever someone turns botocore's DEBUG logging on.
logging.getLogger("botocore.parsers").addFilter(_SecretStringFilter())


def _slack_sdk_logger(url: str) -> logging.Logger:
    # slack-sdk logs the URL at DEBUG and INFO (request lines, "Going to retry ..."): keep only warnings
    # and errors, and redact those too.
    sdk_logger = logging.getLogger("sgw_drift.slack_sdk")
    sdk_logger.setLevel(logging.WARNING)
    for existing in list(sdk_logger.filters):
        sdk_logger.removeFilter(existing)
    sdk_logger.addFilter(_RedactFilter(url))
    return sdk_logger


class SlackWebhook:
    """Posts payloads to one incoming webhook with bounded retries."""

    def __init__(
        self,
        url: str,
        *,
        max_retries: int = MAX_RETRIES,
        max_retry_after: float = MAX_RETRY_AFTER_SECONDS,
        timeout: int = REQUEST_TIMEOUT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = WebhookClient(
            url,
            timeout=timeout,
            logger=_slack_sdk_logger(url),
            retry_handlers=[
                RateLimitRetryHandler(max_retries, sleep, max_retry_after),
                ServerErrorRetryHandler(max_retries, sleep),
                ConnectionRetryHandler(max_retries, sleep),
            ],
        )

    def post(self, payload: Mapping[str, Any]) -> None:
        try:
            response = self._client.send(
                text=payload.get("text"), blocks=payload.get("blocks"), unfurl_links=False, unfurl_media=False
            )
        except URLError as error:
            raise SlackDeliveryError(None, f"request failed: {error.reason}") from None
        if response.status_code != 200:
            raise SlackDeliveryError(response.status_code, str(response.body)[:200])


def webhook_url_from_secret(secret: str | Mapping[str, Any], secret_name: str) -> str:
    """Read the webhook URL from the secret: a plain URL, or JSON with a `webhook_url` (or `url`) key."""
    value: Any = secret
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise SlackConfigurationError(f"secret {secret_name} is not valid JSON and not a URL") from None
    if isinstance(value, Mapping):
        value = value.get("webhook_url") or value.get("url")
    if not isinstance(value, str) or not value.strip():
        raise SlackConfigurationError(
            f'secret {secret_name} contains no webhook URL: store the URL itself or JSON {{"webhook_url": "https://..."}}'
        )
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return url  # a local receiver, as the tests use
    raise SlackConfigurationError(
        f"secret {secret_name} contains a webhook URL that is not https: store the https URL from Slack"
    )


# The function ----------------------------------------------------------------------------------------


class NotifierSettings(BaseModel):
    """Environment of the Slack notifier function (set by template.yaml)."""

    state_table_name: str = Field(min_length=3)
    slack_webhook_secret_arn: str = Field(pattern=r"^arn:aws[a-z-]*:secretsmanager:")
    alert_language: Language = "en"


NOTIFIER_VARIABLES = {
    "state_table_name": "STATE_TABLE_NAME",
    "slack_webhook_secret_arn": "SLACK_WEBHOOK_SECRET_ARN",
    "alert_language": "ALERT_LANGUAGE",
}


def load_notifier_settings(environ: Mapping[str, str]) -> NotifierSettings:
    missing = [
        name
        for field, name in NOTIFIER_VARIABLES.items()
        if field != "alert_language" and not environ.get(name)
    ]
    if missing:
        raise SlackConfigurationError(
            f"missing environment variables: {', '.join(missing)}; deploy with template.yaml"
        )
    values = {field: environ[name] for field, name in NOTIFIER_VARIABLES.items() if environ.get(name)}
    try:
        return NotifierSettings.model_validate(values)
    except ValidationError as error:
        problems = "; ".join(
            f"{NOTIFIER_VARIABLES.get(str(item['loc'][0]), item['loc'][0])}: {item['msg']}"
            for item in error.errors()
        )
        raise SlackConfigurationError(problems) from error


@dataclass
class SlackNotifier:
    """Dependencies of the handler: the secret, the idempotency store and the webhook factory."""

    secret_arn: str
    secrets: SecretsProvider
    idempotency_store: BasePersistenceLayer
    language: Language = "en"
    webhook_factory: Callable[[str], SlackWebhook] = SlackWebhook
    _webhook: SlackWebhook | None = None
    _url: str | None = None

    def webhook(self) -> SlackWebhook:
        """Return the webhook for the current secret value (cached; a rotated URL builds a new client)."""
        try:
            secret = self.secrets.get(self.secret_arn, max_age=SECRET_CACHE_SECONDS)
        except Exception as error:
            raise SlackConfigurationError(
                f"cannot read secret {self.secret_arn}: {type(error).__name__}"
            ) from None
        url = webhook_url_from_secret(secret, self.secret_arn)
        if self._webhook is None or url != self._url:
            self._webhook, self._url = self.webhook_factory(url), url
        return self._webhook


def payload_for(message: str, language: Language) -> dict[str, Any] | None:
    """Render an SNS message as a Slack payload: an sgw-drift alert or a CloudWatch alarm; None otherwise."""
    try:
        document = json.loads(message)
    except json.JSONDecodeError:
        return None
    if not isinstance(document, dict):
        return None
    if document.get("schema") == SCHEMA:
        return slack.render(Alert.model_validate(document))
    if "AlarmName" in document and "NewStateValue" in document:
        return slack.render_alarm(document, language)
    return None


def handle_slack_notification(event: dict, context: Any, notifier: SlackNotifier | None = None) -> dict:
    """Post each SNS record of the invocation to Slack, once per SNS message id."""
    notifier = notifier or get_notifier()
    try:
        records = SnsModel.model_validate(event).Records
    except ValidationError as error:
        metrics.add_metric(name="MalformedEvents", unit=MetricUnit.Count, value=1)
        logger.error("malformed SNS event for the Slack notifier", error_count=error.error_count())
        raise MalformedNotification(
            "invalid SNS event: SlackNotifierFunction expects the alert topic's deliveries"
        ) from error

    config = IdempotencyConfig(event_key_jmespath="message_id", expires_after_seconds=IDEMPOTENCY_SECONDS)
    config.register_lambda_context(context)

    @idempotent_function(
        data_keyword_argument="notification", persistence_store=notifier.idempotency_store, config=config
    )
    def post_once(notification: dict) -> dict:
        payload = payload_for(notification["message"], notifier.language)
        if payload is None:
            metrics.add_metric(name="SlackMessagesSkipped", unit=MetricUnit.Count, value=1)
            logger.warning(
                "SNS message is neither an sgw-drift alert nor a CloudWatch alarm, nothing posted",
                message_id=notification["message_id"],
            )
            return {"posted": False}
        try:
            notifier.webhook().post(payload)
        except SlackDeliveryError as error:
            metrics.add_metric(name="SlackPostsFailed", unit=MetricUnit.Count, value=1)
            logger.error(
                "slack webhook post failed",
                message_id=notification["message_id"],
                status=error.status,
                error=str(error),
            )
            raise
        metrics.add_metric(name="SlackMessagesPosted", unit=MetricUnit.Count, value=1)
        logger.info(
            "slack message posted", message_id=notification["message_id"], blocks=len(payload["blocks"])
        )
        return {"posted": True}

    results = [
        post_once(notification={"message_id": record.Sns.MessageId, "message": str(record.Sns.Message)})
        for record in records
    ]
    return {"posted": sum(1 for result in results if result["posted"]), "records": len(results)}


_current: SlackNotifier | None = None


def build_notifier(environ: Mapping[str, str] | None = None, *, session=None) -> SlackNotifier:
    """Build the notifier from environment variables; raises SlackConfigurationError naming a bad one."""
    import boto3

    settings = load_notifier_settings(os.environ if environ is None else environ)
    session = session or boto3.session.Session()
    return SlackNotifier(
        secret_arn=settings.slack_webhook_secret_arn,
        secrets=SecretsProvider(boto3_client=session.client("secretsmanager")),
        idempotency_store=DynamoDBPersistenceLayer(
            table_name=settings.state_table_name,
            key_attr="pk",
            sort_key_attr="sk",
            boto3_client=session.client("dynamodb"),
        ),
        language=settings.alert_language,
    )


def get_notifier() -> SlackNotifier:
    """Return the notifier, building it on first use (cold start) so its caches live across invocations."""
    global _current
    if _current is None:
        _current = build_notifier()
    return _current


@contextmanager
def use_notifier(notifier: SlackNotifier) -> Iterator[SlackNotifier]:
    """Install `notifier` for the handler while the block runs (tests and the demo)."""
    global _current
    previous, _current = _current, notifier
    try:
        yield notifier
    finally:
        _current = previous
