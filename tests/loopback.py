"""The base of the tests' local HTTP servers on loopback: quiet, and one way to send a body."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing and sends whole bodies with their length."""

    def log_message(self, format, *args):  # keep pytest output quiet
        pass

    def send_body(self, status: int, body: bytes, content_type: str = "text/html",
                  headers=()) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers:
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)
