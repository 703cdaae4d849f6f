"""A persistent response cache in SQLite: answered requests are never sent again.

The key is a SHA-256 of the endpoint's model name, the rendered messages, the sampling settings,
the response format and the template version; never the endpoint URL's credentials or the API key.
Only answers that met the contract are stored, each committed at once (WAL journal), so a killed run loses none.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

_SCHEMA = "CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, content TEXT NOT NULL, prompt_tokens INTEGER, completion_tokens INTEGER)"


def request_key(body: dict[str, Any], template_version: str) -> str:
    """The cache key of one request body (model, messages, sampling, response format) and template version."""
    blob = json.dumps({"request": body, "template_version": template_version}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResponseCache:
    """``get(key)`` / ``put(key, content, usage)`` over one SQLite file (``None``: in memory)."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path is not None else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.is_symlink():
                raise OSError(f"refusing to open the judge cache through a symbolic link: {self.path}")
        self.db = sqlite3.connect(str(self.path) if self.path is not None else ":memory:", check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: each commit survives a killed process, without an fsync each
        self.db.execute(_SCHEMA)
        self.db.commit()

    def get(self, key: str) -> str | None:
        row = self.db.execute("SELECT content FROM answers WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def put(self, key: str, content: str, prompt_tokens: int = 0, completion_tokens: int = 0) -> None:
        self.db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?)", (key, content, prompt_tokens, completion_tokens))
        self.db.commit()

    def __len__(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM answers").fetchone()[0])

    def close(self) -> None:
        self.db.close()
