import pytest
from botocore.exceptions import ClientError

from sgw_drift.gateway import GatewayAdapter, RefreshFailed, RefreshThrottled, is_throttling
from sgw_drift.planner import RefreshPlan


class RejectingClient:
    def __init__(self, response: dict) -> None:
        self.response = response

    def refresh_cache(self, **_kwargs):
        raise ClientError(self.response, "RefreshCache")


def rejection(message: str, error_code: str | None = None) -> dict:
    body = {"Error": {"Code": "InvalidGatewayRequestException", "Message": message}, "message": message}
    if error_code:
        body["error"] = {"errorCode": error_code, "errorDetails": {}}
    return body


@pytest.mark.parametrize(
    "message",
    [
        "Too many requests were sent to the server: 2 cache refreshes are already in progress",
        "too many refresh requests",
    ],
)
def test_too_many_requests_is_throttling(message):
    assert is_throttling(None, message)


@pytest.mark.parametrize(
    "message",
    [
        "Cannot access the S3 bucket demo: Access Denied",
        "The specified gateway is not connected",
        "too many files",
    ],
)
def test_other_rejections_are_failures(message):
    assert not is_throttling(None, message)


def test_adapter_maps_throttling():
    adapter = GatewayAdapter(RejectingClient(rejection("Too many requests were sent to the server")))
    with pytest.raises(RefreshThrottled):
        adapter.refresh_cache("arn:share", RefreshPlan(("/",), False))


def test_adapter_maps_failure_with_error_code():
    adapter = GatewayAdapter(RejectingClient(rejection("Cannot access bucket", "StorageFailure")))

    with pytest.raises(RefreshFailed) as raised:
        adapter.refresh_cache("arn:share", RefreshPlan(("/",), False))

    assert raised.value.code == "StorageFailure"
    assert raised.value.message == "Cannot access bucket"


def test_internal_server_error_is_a_failure():
    response = {"Error": {"Code": "InternalServerError", "Message": "Too many requests"}}
    with pytest.raises(RefreshFailed):
        GatewayAdapter(RejectingClient(response)).refresh_cache("arn:share", RefreshPlan(("/",), False))
