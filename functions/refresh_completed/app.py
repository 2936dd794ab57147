"""RefreshCompleted: a finished RefreshCache frees its slot and is confirmed."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from sgw_drift.handlers import handle_refresh_completed
from sgw_drift.observability import logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return handle_refresh_completed(event, context)
