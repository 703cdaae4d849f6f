"""The one JSON decoder behind every reader: strict RFC 8259, fast (orjson), exact for big integers.

Strict means a row with ``NaN``/``Infinity``, a lone surrogate escape (``"\\ud800"``), nesting
deeper than 1024 levels or invalid UTF-8 is malformed, so it becomes a reject rather than a crash
further down or a non-JSON output line. orjson turns integers beyond 64 bits into floats; a text
holding a run of 19 or more digits is therefore validated by orjson and decoded by the standard
library, which keeps such integers exact.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

BOM = b"\xef\xbb\xbf"
JSONDecodeError = orjson.JSONDecodeError  # a subclass of json.JSONDecodeError: .msg, .lineno, .colno
_LONG_DIGITS = re.compile(rb"\d{19}")


def loads(raw: bytes) -> Any:
    """Decode one JSON document from UTF-8 bytes; raises :data:`JSONDecodeError` when it is not strict JSON."""
    value = orjson.loads(raw)
    if _LONG_DIGITS.search(raw):
        return json.loads(raw)
    return value
