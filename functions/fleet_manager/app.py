"""FleetManager: audit Fleet Manager file operations on mount hosts and keep browsed folders fresh."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from sgw_drift.handlers import handle_fleet_manager
from sgw_drift.observability import logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return handle_fleet_manager(event, context)
