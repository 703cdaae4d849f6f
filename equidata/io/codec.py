"""The one JSON decoder behind every reader: strict RFC 8259, fast (orjson), exact for big integers.

Strict means a row with ``NaN``/``Infinity``, a lone surrogate escape (``"\\ud800"``), nesting
deeper than 1024 levels or invalid UTF-8 is malformed, so it becomes a reject rather than a crash
further down or a non-JSON output line. orjson turns integers beyond 64 bits into floats; a text
holding a run of 19 or more digits is therefore validated by orjson and decoded by the standard
library, which keeps such integers exact.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

BOM = b"\xef\xbb\xbf"
JSONDecodeError = orjson.JSONDecodeError  # a subclass of json.JSONDecodeError: .msg, .lineno, .colno
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))  # digits -> "0", all else -> " "
_LONG_RUN = b"0" * 19  # 19 digits may exceed 64 bits


def _has_long_number(raw: bytes) -> bool:
    """A run of 19 or more digits (found in C: translate, then a substring search; a regex is 3x slower)."""
    return _LONG_RUN in raw.translate(_DIGITS_AS_ZERO)


def loads(raw: bytes) -> Any:
    """Decode one JSON document from UTF-8 bytes; raises :data:`JSONDecodeError` when it is not strict JSON."""
    value = orjson.loads(raw)
    return json.loads(raw) if _has_long_number(raw) else value
