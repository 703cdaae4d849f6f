"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1, for tests and benchmarks.

Its judgements are deterministic and follow hidden markers in the data, never instructions in it:

- label: ``gold:GROUP`` markers in the dialogue (``gold:none`` wins; explicit + implicit make mixed);
  no marker: a hash of the text picks the group. With temperature > 0, a dialogue holding ``wobble``
  is labelled ``none`` on odd seeds (for votes).
  A server given an ``oracle`` (prompt text -> group) answers those prompts from it.
- fuse: "<explicit query>, and <implicit query>" (markers carry over).
- scores: ``rate:V`` in a segment gives V, otherwise 0.

``fault:NAME`` in the data injects a fault on the first arrival of that request (``-always``: on
every arrival): 429 (with Retry-After: 1), 500, hang (past the client's timeout), drop (closes
the connection), malformed (a body that is not JSON), truncated (half the answer,
finish_reason length), prose (an answer in words). ``fault:fenced`` always answers inside a
fenced code block (which the contract accepts). Every request is logged in :attr:`JudgeServer.log`.
A server given an ``api_key`` answers 401 to requests without ``Authorization: Bearer <key>``.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from equidata.judge.cache import request_key
from equidata.judge.prompts import TEMPLATE_VERSION

GROUPS = ("explicit", "implicit", "mixed", "none")
_GOLD = re.compile(r"gold:(explicit|implicit|mixed|none)")
_FAULT = re.compile(r"fault:([a-z0-9]+(?:-always)?)")
_RATE = re.compile(r"rate:([+-]?\d+(?:\.\d+)?)")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def scripted_label(text: str, seed: int = 0, temperature: float = 0.0) -> str:
    """The server's judgement of a dialogue's text."""
    if temperature > 0 and "wobble" in text and seed % 2 == 1:
        return "none"
    gold = set(_GOLD.findall(text))
    if "none" in gold:
        return "none"
    if "mixed" in gold or {"explicit", "implicit"} <= gold:
        return "mixed"
    if gold:
        return gold.pop()
    return GROUPS[int(hashlib.sha256(text.encode()).hexdigest(), 16) % 4]


def fused(explicit: str, implicit: str) -> str:
    """The server's fusion of two queries."""
    return f"{explicit.rstrip(' ?.!')}, and {implicit[:1].lower()}{implicit[1:]}"


class JudgeServer:
    """Start with ``with JudgeServer() as server:``; ``server.url`` is the ``--endpoint``."""

    def __init__(self, latency: float = 0.0, hang: float = 3.0, api_key: str | None = None, oracle: dict[str, str] | None = None) -> None:
        self.latency, self.hang, self.api_key, self.oracle = latency, hang, api_key, oracle or {}
        self.log: list[dict[str, Any]] = []
        self.arrivals: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.judge = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> JudgeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def answered(self) -> Counter[str]:
        """How often each request (by its equidata cache key) got a good answer."""
        with self.lock:
            return Counter(e["cache_key"] for e in self.log if e["outcome"] == "answer")

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        """The scripted answer object for a request body."""
        task = body["response_format"]["json_schema"]["name"]
        user = body["messages"][-1]["content"]
        start, end = user.index("<data>") + len("<data>"), user.rindex("</data>")
        if user.count("<data>") != 1 or user.count("</data>") != 1:
            raise ValueError("the data block is not delimited once")
        data = json.loads(user[start:end])
        text = "\n".join(_strings(data))
        if task == "risk_label" and data["dialogue"][-1]["content"] in self.oracle:
            return {"label": self.oracle[data["dialogue"][-1]["content"]], "rationale": "oracle"}
        if task == "risk_label":
            return {"label": scripted_label(text, body.get("seed", 0), body.get("temperature", 0.0)), "rationale": "scripted"}
        if task == "fused_query":
            return {"query": fused(data["explicit_query"], data["implicit_query"])}
        if task == "segment_scores":
            return {"scores": [float(m.group(1)) if (m := _RATE.search(s)) else 0.0 for s in data["response_segments"]]}
        raise ValueError(f"unknown task {task}")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the benchmark opens 64 connections at once

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client killed mid-request (the resume test) resets its connection


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # headers and body go out at once

    def log_message(self, *args: Any) -> None:
        pass

    def _reply(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in {"Content-Type": "application/json", "Content-Length": str(len(payload)), **(headers or {})}.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self) -> None:  # noqa: N802
        judge: JudgeServer = self.server.judge  # type: ignore[attr-defined]
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        key = hashlib.sha256(raw).hexdigest()
        body = json.loads(raw)
        found = _FAULT.search(body["messages"][-1]["content"])
        fault = found.group(1) if found else None
        with judge.lock:
            judge.arrivals[key] += 1
            first = judge.arrivals[key] == 1
        active = fault if fault and (first or fault.endswith("-always") or fault == "fenced") else None
        auth = self.headers.get("Authorization")
        entry = {"key": key, "cache_key": request_key(body, TEMPLATE_VERSION), "body": body, "t": time.monotonic(), "fault": active, "outcome": "hang" if active == "hang" else "pending"}
        entry["authorized"] = auth == f"Bearer {judge.api_key}" if judge.api_key else auth is None
        with judge.lock:
            judge.log.append(entry)
        if judge.latency:
            time.sleep(judge.latency)
        if judge.api_key and not entry["authorized"]:
            self._reply(401, b'{"error": "invalid api key"}')
            entry["outcome"] = "401"
            return
        entry["outcome"] = self._serve(judge, body, active)

    def _serve(self, judge: JudgeServer, body: dict[str, Any], fault: str | None) -> str:
        if fault == "429":
            self._reply(429, b'{"error": "rate limited"}', {"Retry-After": "1"})
            return "429"
        if fault == "500":
            self._reply(500, b'{"error": "boom"}')
            return "500"
        if fault == "hang":
            time.sleep(judge.hang)
            self.close_connection = True
            return "hang"
        if fault == "drop":
            self.close_connection = True
            return "drop"
        if fault == "malformed":
            self._reply(200, b'{"choices": [ this is not json')
            return "malformed"
        try:
            answer = json.dumps(judge.answer(body))
        except (ValueError, KeyError) as exc:
            self._reply(400, json.dumps({"error": str(exc)}).encode())
            return "400"
        finish = "stop"
        outcome = "answer"
        if fault == "truncated":
            answer, finish, outcome = answer[: len(answer) // 2], "length", "truncated"
        elif fault in ("prose", "prose-always"):
            answer, outcome = "I think this one is probably explicit, because of the words used.", "prose"
        elif fault == "fenced":
            answer = f"```json\n{answer}\n```"
        usage = {"prompt_tokens": len(body["messages"][-1]["content"]) // 4 + 1, "completion_tokens": len(answer) // 4 + 1}
        payload = {
            "id": "cmpl-test", "object": "chat.completion", "model": body.get("model"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": finish}],
            "usage": {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]},
        }
        self._reply(200, json.dumps(payload).encode())
        return outcome
