"""File gateway emulator for tests, benchmarks and `sgw-drift demo` (moto has no Storage Gateway)."""

from sgw_drift.emulator.gateway import (
    EVENT_SOURCE,
    MAX_FOLDER_LIST_ENTRIES,
    MAX_IN_FLIGHT,
    MIN_SECONDS_BETWEEN_REFRESHES,
    REFRESH_EVENT_DETAIL_TYPE,
    EmulatorNotImplementedError,
    FileGatewayEmulator,
)
from sgw_drift.emulator.lister import EmulatorShareLister
from sgw_drift.emulator.model import RefreshCall, RefreshOutcome, UnknownFileShareError
from sgw_drift.emulator.share_io import GATEWAY_USER_AGENT, gateway_metadata

__all__ = [
    "EVENT_SOURCE",
    "GATEWAY_USER_AGENT",
    "MAX_FOLDER_LIST_ENTRIES",
    "MAX_IN_FLIGHT",
    "MIN_SECONDS_BETWEEN_REFRESHES",
    "REFRESH_EVENT_DETAIL_TYPE",
    "EmulatorNotImplementedError",
    "EmulatorShareLister",
    "FileGatewayEmulator",
    "RefreshCall",
    "RefreshOutcome",
    "UnknownFileShareError",
    "gateway_metadata",
]
