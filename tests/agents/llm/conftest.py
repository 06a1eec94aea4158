"""Fixtures for the LLM layer tests: a fault-injecting server and a real llama.cpp server.

`FaultServer` is a loopback OpenAI-compatible server of the tests' own that misbehaves on cue.

Each prompt (the FIRST user message, so a repair re-ask shares its script) has a script of actions, consumed one per
request with that prompt; an exhausted or missing script answers normally. Actions:
  ("status", code[, message])  answer `code` with an OpenAI-style error body (Retry-After-Ms: 5)
  ("garbage",)        answer 200 with a body that is not JSON
  ("reply", text)     answer a normal completion with `text`
  ("slow", s, text)   wait `s` seconds, then answer `text`
  ("drop",)           close the connection without any answer
  ("die",)            the server "crashes": it stops listening and drops every connection
Unscripted prompts get `default_action(body)` when it is set (e.g. a 401 for everything),
else a reply with `default_reply(body)`. Every request body is recorded in `requests`
(in arrival order).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class FaultServer:
    """Start with `FaultServer()`; `base_url` is ready at once; `stop()` closes the port."""

    def __init__(self, default_reply=lambda body: "ok") -> None:
        self.scripts: dict[str, deque] = defaultdict(deque)
        self.requests: list[dict] = []
        self.default_reply = default_reply
        self.default_action = None
        self.dead = False
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def script(self, prompt: str, *actions: tuple) -> None:
        self.scripts[prompt].extend(actions)

    def next_action(self, body: dict) -> tuple:
        prompt = first_user_text(body)
        with self._lock:
            self.requests.append(body)
            script = self.scripts.get(prompt)
            if script:
                return script.popleft()
        if self.default_action is not None:
            return self.default_action(body)
        return ("reply", self.default_reply(body))

    def prompts_seen(self) -> list[str]:
        with self._lock:
            return [first_user_text(body) for body in self.requests]

    def kill(self) -> None:
        """Crash: refuse new connections and drop open keep-alive ones from now on."""
        self.dead = True
        # Synchronously (from a handler thread; safe: handler threads are daemons), so a
        # retry after the dropped reply always finds the port closed.
        self.stop()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def first_user_text(body: dict) -> str:
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


def completion_body(text: str, model: str) -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
        }
    ).encode()


def _handler_for(server: FaultServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep pytest output clean
            pass

        def do_GET(self) -> None:  # noqa: N802 -- the fleet's health check: GET /models
            if server.dead:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self._send(200, json.dumps({"object": "list", "data": []}).encode(), {})

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            action = ("drop",) if server.dead else server.next_action(body)
            # The client may have given up (timeout) before we answer.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._act(action, body)

        def _act(self, action: tuple, body: dict) -> None:
            kind = action[0]
            if kind == "die":
                server.kill()
                kind = "drop"
            if kind == "drop":
                self.close_connection = True
                self.connection.shutdown(2)
            elif kind == "status":
                message = action[2] if len(action) > 2 else f"scripted {action[1]}"
                error = {"error": {"message": message, "type": "test"}}
                self._send(action[1], json.dumps(error).encode(), {"retry-after-ms": "5"})
            elif kind == "garbage":
                self._send(200, b'{"choices": [oops', {})
            elif kind == "slow":
                time.sleep(action[1])
                self._send(200, completion_body(action[2], body["model"]), {})
            else:
                self._send(200, completion_body(action[1], body["model"]), {})

        def _send(self, status: int, payload: bytes, headers: dict) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

    return Handler


@pytest.fixture
def fault_server():
    """A fresh `FaultServer`, stopped after the test."""
    server = FaultServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def llama_server():
    """A REAL llama-cpp-python OpenAI-compatible server serving SmolLM2 on loopback."""
    pytest.importorskip("llama_cpp", reason="needs llama-cpp-python[server] (the `local` extra)")
    from recagora.agents.llm.servers import start_llamacpp_server
    from recagora.agents.llm.specs import embedded_gguf_path

    server = start_llamacpp_server(
        embedded_gguf_path("smollm2"), "smollm2", n_ctx=2048, n_threads=1, ready_timeout_s=120
    )
    yield server
    server.stop()
