"""Storage Gateway adapter: `RefreshCache` and the mapping of its errors."""

from __future__ import annotations

from botocore.exceptions import ClientError

from .planner import RefreshPlan


class RefreshRejected(Exception):
    """The gateway rejected a `RefreshCache` call."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class RefreshThrottled(RefreshRejected):
    """Too many refreshes in flight: deferred work, not a failure."""


class RefreshFailed(RefreshRejected):
    """Any other rejection, such as "Cannot access …": an incident."""


def is_throttling(error_code: str | None, message: str) -> bool:
    """Decide whether an `InvalidGatewayRequestException` means "too many refreshes".

    The RefreshCache API reference says a call made while two refreshes run fails with
    InvalidGatewayRequestException "because too many requests were sent to the server".
    NOTE: AWS publishes neither the errorCode nor the exact message of that case, so this
    matches the documented wording; any other text counts as a real failure.
    """
    if error_code in ("ThrottlingException", "TooManyRequestsException"):
        return True
    text = message.lower()
    return "too many" in text and ("request" in text or "refresh" in text)


class GatewayAdapter:
    """Calls `RefreshCache` and turns its errors into RefreshThrottled or RefreshFailed."""

    def __init__(self, client) -> None:
        self._client = client

    def refresh_cache(self, share_arn: str, plan: RefreshPlan) -> str:
        try:
            response = self._client.refresh_cache(
                FileShareARN=share_arn, FolderList=list(plan.folders), Recursive=plan.recursive
            )
        except ClientError as error:
            body = error.response
            code = (body.get("error") or {}).get("errorCode") or body.get("Error", {}).get("Code")
            message = body.get("Error", {}).get("Message") or body.get("message") or str(error)
            if body.get("Error", {}).get("Code") == "InvalidGatewayRequestException" and is_throttling(
                (body.get("error") or {}).get("errorCode"), message
            ):
                raise RefreshThrottled(message, code) from error
            raise RefreshFailed(message, code) from error
        return response["NotificationId"]
