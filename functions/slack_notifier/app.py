"""SlackNotifier: alert topic messages posted to Slack as Block Kit, once per SNS message."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from sgw_drift.alerts.notifier import handle_slack_notification
from sgw_drift.observability import logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return handle_slack_notification(event, context)
