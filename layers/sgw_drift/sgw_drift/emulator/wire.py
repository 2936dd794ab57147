"""HTTP responses for botocore, built the way the Storage Gateway service would send them.

The emulator responds to `before-call` with a JSON 1.1 body and lets botocore's own response parser
read it, so callers get exactly the dicts and `ClientError` subclasses a real response produces.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.model import OperationModel
from botocore.parsers import create_parser

# The JSON 1.1 protocol of the Storage Gateway API (botocore's service model, "jsonVersion": "1.1").
CONTENT_TYPE = "application/x-amz-json-1.1"
INVALID_GATEWAY_REQUEST = "InvalidGatewayRequestException"


class _BodyStream:
    """The `raw` object AWSResponse reads its content from."""

    def __init__(self, payload: bytes) -> None:
        self._payload = payload

    def stream(self, **_kwargs: Any) -> Any:
        yield self._payload


def error_body(
    message: str, error_code: str | None = None, error_details: dict[str, str] | None = None
) -> dict[str, Any]:
    """Return the body of an InvalidGatewayRequestException.

    `error` follows the service model's StorageGatewayError shape: `errorCode` is left out when
    `error_code` is None, as the emulator does for throttling.
    """
    error: dict[str, Any] = {"errorDetails": dict(error_details or {})}
    if error_code is not None:
        error["errorCode"] = error_code
    return {"__type": INVALID_GATEWAY_REQUEST, "message": message, "error": error}


def build_response(
    operation_model: OperationModel, url: str, status: int, body: dict[str, Any]
) -> tuple[AWSResponse, dict[str, Any]]:
    """Return the `(http_response, parsed)` pair that `before-call` handlers hand back to botocore."""
    payload = json.dumps(body).encode("utf-8")
    headers = {
        "x-amzn-RequestId": str(uuid.uuid4()),
        "Content-Type": CONTENT_TYPE,
        "Content-Length": str(len(payload)),
    }
    http_response = AWSResponse(url, status, headers, _BodyStream(payload))
    response_dict = {
        "headers": http_response.headers,
        "status_code": status,
        "body": payload,
        "context": {"operation_name": operation_model.name},
    }

    # Same two passes as botocore.endpoint.Endpoint._do_get_response: the output or error shape
    # first, then the modeled fields of the error shape (`message`, `error`).
    service_model = operation_model.service_model
    protocol = getattr(service_model, "resolved_protocol", None) or service_model.metadata["protocol"]
    parser = create_parser(protocol)
    parsed = parser.parse(response_dict, operation_model.output_shape)
    if status >= 300:
        error_code = parsed.get("Error", {}).get("Code")
        error_shape = service_model.shape_for_error_code(error_code) if error_code else None
        if error_shape is not None:
            parsed.update(parser.parse(response_dict, error_shape))
    parsed.setdefault("ResponseMetadata", {})["RetryAttempts"] = 0
    return http_response, parsed
