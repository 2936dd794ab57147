"""Logger, tracer and metrics shared by every function, configured by POWERTOOLS_* variables."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="sgw-drift")
tracer = Tracer(service="sgw-drift")
metrics = Metrics(namespace="SgwDrift", service="sgw-drift")
