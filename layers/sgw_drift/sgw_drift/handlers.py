"""Bodies of the Lambda handlers; `functions/*/app.py` wrap them in the Powertools decorators."""

from __future__ import annotations

import json
from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.parser import parse
from pydantic import BaseModel, ValidationError

from .events import RefreshCompleteEvent, S3ObjectEvent
from .fleet import SendCommandEvent
from .observability import logger, metrics
from .runtime import Runtime, get_runtime

IDEMPOTENCY_SECONDS = 24 * 3600
# The event id alone would do on AWS; the key and sequencer keep events with a shared id apart.
S3_EVENT_KEY = '[id, "detail-type", detail.bucket.name, detail.object.key, detail.object.sequencer]'


class MalformedEvent(ValueError):
    """An input that no retry can fix: it goes to the dead-letter queue with its reason."""


def _sequence_key(record: dict) -> tuple:
    """Sort key that puts each object's events in sequencer order; unreadable records go last."""
    try:
        detail = json.loads(record["body"])["detail"]
        sequencer = str(detail["object"]["sequencer"])
        return (0, detail["bucket"]["name"], detail["object"]["key"], sequencer.rjust(32, "0")[-32:])
    except (KeyError, TypeError, ValueError):
        return (1, "", "", "")


def handle_object_events(event: dict, context: Any, runtime: Runtime | None = None) -> dict:
    """Process an SQS batch of S3 events, then verify and refresh the shares they touched."""
    runtime = runtime or get_runtime()
    config = IdempotencyConfig(event_key_jmespath=S3_EVENT_KEY, expires_after_seconds=IDEMPOTENCY_SECONDS)
    config.register_lambda_context(context)

    @idempotent_function(
        data_keyword_argument="event", persistence_store=runtime.idempotency_store, config=config
    )
    def record_once(event: dict) -> dict:
        outcome = runtime.service.record_event(S3ObjectEvent.model_validate(event))
        return {"action": outcome.action, "shares": outcome.shares}

    touched: set[str] = set()

    def record_handler(record: SQSRecord) -> None:
        try:
            body = json.loads(record.body)
            S3ObjectEvent.model_validate(body)
        except (json.JSONDecodeError, ValidationError) as error:
            _dead_letter(runtime, record, error)
            return
        touched.update(record_once(event=body)["shares"])

    records = event.get("Records")
    if not isinstance(records, list):
        raise MalformedEvent("the event has no Records list: ObjectEventsFunction expects an SQS batch")
    ordered = {**event, "Records": sorted(records, key=_sequence_key)}
    response = process_partial_response(
        event=ordered,
        record_handler=record_handler,
        processor=BatchProcessor(event_type=EventType.SQS),
        context=context,
    )
    if touched:
        try:
            runtime.service.process(touched)
        except Exception:
            # The edits are stored: the next drain tick verifies and refreshes them.
            logger.exception(
                "verification after the batch failed; the drain tick retries it", share_count=len(touched)
            )
            metrics.add_metric(name="VerificationErrors", unit=MetricUnit.Count, value=1)
    return response


def _dead_letter(runtime: Runtime, record: SQSRecord, error: Exception) -> None:
    reason = _reason(error)
    metrics.add_metric(name="MalformedEvents", unit=MetricUnit.Count, value=1)
    logger.error(
        "malformed S3 event sent to the dead-letter queue", message_id=record.message_id, reason=reason
    )
    queue_url = runtime.settings.dead_letter_queue_url
    if not queue_url:
        # Without the URL, failing the record lets the queue's redrive policy dead-letter it.
        raise MalformedEvent(reason) from error
    runtime.sqs.send_message(
        QueueUrl=queue_url,
        MessageBody=record.body,
        MessageAttributes={
            "error": {"DataType": "String", "StringValue": reason[:1000]},
            "source_message_id": {"DataType": "String", "StringValue": record.message_id},
        },
    )


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        problems = []
        for item in error.errors()[:5]:
            location = ".".join(str(part) for part in item["loc"])
            problems.append(f"{location}: {item['msg']} (got {str(item.get('input'))[:80]!r})")
        return (
            "invalid S3 event: " + "; ".join(problems) + "; expected an S3 EventBridge event (source aws.s3)"
        )
    return f"invalid JSON body: {error}; expected an S3 EventBridge event"


def _once_per_event(
    event: dict, context: Any, runtime: Runtime, *, model: type[BaseModel], name: str, action
):
    """Parse an EventBridge event into `model`, then run `action(parsed)` once per event id.

    A malformed event raises MalformedEvent after a metric and a log line, so Lambda's retries and
    the OnFailure destination keep it.
    """
    try:
        parsed = parse(event=event, model=model)
    except (ValidationError, ValueError, TypeError) as error:
        metrics.add_metric(name="MalformedEvents", unit=MetricUnit.Count, value=1)
        logger.error("malformed event", event_name=name, error=str(error)[:500])
        raise MalformedEvent(f"invalid {name} event: {error}") from error

    config = IdempotencyConfig(event_key_jmespath="id", expires_after_seconds=IDEMPOTENCY_SECONDS)
    config.register_lambda_context(context)

    @idempotent_function(
        data_keyword_argument="event", persistence_store=runtime.idempotency_store, config=config
    )
    def run_once(event: dict) -> dict:
        return action(parsed)

    return run_once(event=event)


def handle_refresh_completed(event: dict, context: Any, runtime: Runtime | None = None) -> dict:
    """Handle a `Storage Gateway Refresh Cache Event`, once per event id."""
    runtime = runtime or get_runtime()

    def complete(parsed: RefreshCompleteEvent) -> dict:
        runtime.service.refresh_completed(parsed)
        return {"share_arn": parsed.share_arn, "notification_id": parsed.detail.notification_id}

    return _once_per_event(
        event, context, runtime, model=RefreshCompleteEvent, name="refresh-complete", action=complete
    )


class ReconcileRequest(BaseModel):
    """Input of the scheduled Reconcile function."""

    mode: Literal["drain", "sweep"]


def handle_reconcile(event: dict, context: Any, runtime: Runtime | None = None) -> dict:
    """Run a drain tick (every minute) or a full sweep (on the sweep schedule)."""
    runtime = runtime or get_runtime()
    try:
        request = ReconcileRequest.model_validate(event)
    except ValidationError as error:
        metrics.add_metric(name="MalformedEvents", unit=MetricUnit.Count, value=1)
        raise MalformedEvent(
            f'invalid Reconcile input {event!r:.200}: expected {{"mode": "drain"}} or {{"mode": "sweep"}}'
        ) from error
    if request.mode == "sweep":
        runtime.service.sweep()
    else:
        runtime.service.tick()
    return {"mode": request.mode}


def handle_fleet_manager(event: dict, context: Any, runtime: Runtime | None = None) -> dict:
    """Handle one CloudTrail `SendCommand` event of a Fleet Manager document, once per event id."""
    runtime = runtime or get_runtime()

    def audit(parsed: SendCommandEvent) -> dict:
        outcome = runtime.fleet.handle(parsed)
        return {
            "action": outcome.action,
            "audits": len(outcome.audits),
            "checked": [folder for _, folder in outcome.checked],
            "refreshed": [folder for _, folder in outcome.refreshed],
        }

    return _once_per_event(
        event, context, runtime, model=SendCommandEvent, name="CloudTrail SendCommand", action=audit
    )
