"""A stand-in for a Slack incoming webhook on 127.0.0.1, for the tests and the demo.

It records every request and responds from a script of statuses (for example 429 with a
`Retry-After` header, then 200), then from an optional `fault_hook`, then with `default_status`.
It binds to the loopback address only, takes bodies of at most `MAX_BODY_BYTES`, and stops when
its context ends.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY_BYTES = 1_000_000
WEBHOOK_PATH = "/services/T0000LOCAL/B0000LOCAL/local-webhook-token"


@dataclass
class Response:
    """One scripted response."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str = "ok"


@dataclass
class Request:
    """One request the receiver got, with the status it returned."""

    path: str
    body: dict | None
    status: int


class WebhookReceiver:
    """Record requests and respond from the script, then from the fault hook, then with the default status.

    `fault_hook` is called with the JSON body of each valid post once the script is used up. It
    runs under the receiver's lock, so a seeded random generator behind it draws in the order of
    the posts. It returns the response to send (a 429 or a 5xx, say) or None for the default.
    """

    def __init__(
        self,
        script: Iterable[Response] = (),
        *,
        default_status: int = 200,
        path: str = WEBHOOK_PATH,
        fault_hook: Callable[[dict], Response | None] | None = None,
    ) -> None:
        self.script = deque(script)
        self.fault_hook = fault_hook
        self.default = Response(default_status, {}, "ok" if default_status == 200 else "server_error")
        self.path = path
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("start the receiver first")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.path}"

    @property
    def posts(self) -> list[dict]:
        """Bodies of the posts that were accepted (status 200 on the webhook path)."""
        return [
            request.body for request in self.requests if request.status == 200 and request.body is not None
        ]

    def __enter__(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the name http.server expects)
                receiver._answer(self)

            def log_message(self, format: str, *args) -> None:  # noqa: A002
                # The default handler prints the request line, whose path is the webhook's secret.
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._reply(handler, Response(413, {}, "request_too_large"), None)
            return
        raw = handler.rfile.read(length)
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            body = None
        if handler.path != self.path:
            response = Response(404, {}, "no_service")
        elif body is None:
            response = Response(400, {}, "invalid_payload")
        else:
            with self._lock:
                response = self._response_for(body)
        self._reply(handler, response, body)

    def _response_for(self, body: dict) -> Response:
        if self.script:
            return self.script.popleft()
        if self.fault_hook is not None:
            fault = self.fault_hook(body)
            if fault is not None:
                return fault
        return self.default

    def _reply(self, handler: BaseHTTPRequestHandler, response: Response, body: dict | None) -> None:
        with self._lock:
            self.requests.append(Request(handler.path, body, response.status))
        data = response.body.encode("utf-8")
        handler.send_response(response.status)
        for name, value in response.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Type", "text/plain")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
