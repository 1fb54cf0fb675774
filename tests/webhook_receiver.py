"""A shop's webhook receiver on loopback, for the tests and bench/webhooks.py: an HTTP server in a
thread of its own that keeps every request (its headers and body, as received) and answers 200, or
500 to a chosen share of them (by a seeded draw, so a run is repeatable)."""

import random
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Request:
    headers: dict[str, str]
    body: bytes
    answered: int  # the status code the receiver gave

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]


class Receiver:
    def __init__(self, *, fail_share: float = 0.0, seed: int = 19) -> None:
        self.fail_share = fail_share
        self.requests: list[Request] = []
        self._draw = random.Random(seed)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hooks"

    def accepted(self) -> list[Request]:
        """The requests answered 200, in the order they came."""
        with self._lock:
            return [r for r in self.requests if r.answered == 200]

    def _answer(self, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            status = 500 if self._draw.random() < self.fail_share else 200
            self.requests.append(Request(headers, body, status))
            return status

    @contextmanager
    def running(self) -> Iterator["Receiver"]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver behind a proxy

            def setup(self) -> None:
                super().setup()
                # The answer's head and body go out as two writes: without this, each waits for
                # the client's delayed acknowledgement (40 ms on Linux).
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                status = receiver._answer({k.lower(): v for k, v in self.headers.items()}, body)
                text = b"ok" if status == 200 else b"busy, try again"
                self.send_response(status)
                self.send_header("content-length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join(timeout=5)
