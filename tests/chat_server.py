"""A tiny OpenAI-compatible HTTP server on loopback, scripted per test.

It speaks real HTTP to the real `openai` SDK, so the provider's time-out, error and
streaming handling are exercised for real; `behaviour` decides what each request gets:
"error" (HTTP 500), "sleep" (answers after `delay` seconds), "stream"/"reply" (the given
text, streamed as server-sent events when the client asked for a stream), "trickle" (streams
one piece every `delay` seconds: a model that never stops for long but never finishes either),
"no-json-mode" (HTTP 400 whenever `response_format` is sent). A stream is sent word by word,
or in pieces of `chunk_chars` characters when that is set (a 5 MB answer in a few hundred
events). Every request body is kept in `requests`,
so tests can check what the model was (and was not) shown.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ChatServer:
    def __init__(
        self,
        behaviour: str = "reply",
        text: str = "Hello from the model.",
        delay: float = 3.0,
        chunk_chars: int | None = None,
    ) -> None:
        self.behaviour = behaviour
        self.text = text
        self.delay = delay
        self.chunk_chars = chunk_chars
        self.streamed_until: float | None = None  # when the last piece was written (or refused)
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append(request)
                if server.behaviour == "error":
                    self._json(500, {"error": {"message": "model crashed", "type": "server_error"}})
                    return
                if server.behaviour == "sleep":
                    time.sleep(server.delay)
                if server.behaviour == "no-json-mode" and "response_format" in request:
                    self._json(400, {"error": {"message": "response_format is not supported", "type": "invalid"}})
                    return
                if request.get("stream"):
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    for piece in server.pieces():
                        if server.behaviour == "trickle":
                            time.sleep(server.delay)
                        chunk = {
                            "id": "c1",
                            "object": "chat.completion.chunk",
                            "created": 0,
                            "model": request.get("model", "stub"),
                            "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
                        }
                        try:
                            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                            self.wfile.flush()
                        except OSError:  # the client hung up (its deadline passed): stop streaming
                            server.streamed_until = time.monotonic()
                            return
                        server.streamed_until = time.monotonic()
                    self.wfile.write(b"data: [DONE]\n\n")
                    return
                self._json(
                    200,
                    {
                        "id": "c1",
                        "object": "chat.completion",
                        "created": 0,
                        "model": request.get("model", "stub"),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": server.text},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    },
                )

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def pieces(self) -> list[str]:
        """The streamed answer's pieces: words (with their leading space), or fixed slices."""
        if self.chunk_chars:
            return [self.text[i : i + self.chunk_chars] for i in range(0, len(self.text), self.chunk_chars)]
        words = self.text.split(" ")
        return [word if i == 0 else " " + word for i, word in enumerate(words)]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def seen_text(self) -> str:
        """Everything the model was sent, as one string."""
        return json.dumps(self.requests)

    def __enter__(self) -> ChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
