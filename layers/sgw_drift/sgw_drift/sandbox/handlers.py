"""Load the real Lambda handlers (`functions/*/app.py`) and call them with a Lambda-like context."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path
from types import ModuleType

FUNCTIONS = {
    "object_events": "ObjectEventsFunction",
    "refresh_completed": "RefreshCompletedFunction",
    "reconcile": "ReconcileFunction",
    "fleet_manager": "FleetManagerFunction",
}


def functions_directory() -> Path | None:
    """Return the repository's `functions/` folder (present in a clone with `pip install -e .`)."""
    candidate = Path(__file__).resolve().parents[4] / "functions"
    return candidate if candidate.is_dir() else None


class LambdaContext:
    """The attributes of the Lambda context object that Powertools reads."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:ap-northeast-1:123456789012:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


_loaded: dict[str, object] = {}


def load_handler(name: str):
    """Return `lambda_handler` of functions/<name>/app.py, or the library body outside a clone."""
    if name in _loaded:
        return _loaded[name]
    directory = functions_directory()
    if directory is None:
        from .. import handlers

        _loaded[name] = getattr(handlers, f"handle_{name}")
    else:
        _loaded[name] = _load(directory / name / "app.py", f"sgw_drift_function_{name}").lambda_handler
    return _loaded[name]


def _load(path: Path, module_name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load handler module {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def invoke(name: str, event: dict) -> dict:
    handler = load_handler(name)
    return handler(event, LambdaContext(FUNCTIONS[name]))
