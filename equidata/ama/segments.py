"""Split a response into message-level segments: lines, list items, sentences and clauses.

A segment is a half-open character span ``[start, end)`` into the response string (``end`` is
*exclusive*, so ``text[start:end]`` is the segment), stripped of surrounding whitespace. Segments
never overlap, appear in order, and whitespace between them belongs to no segment.

Rules, applied in this order:

1. newlines end a segment (so every list item is its own segment); a list marker (``-``, ``*``,
   ``•``, ``1.``, ``2)``, ``a.``) stays with its item;
2. ``.``, ``!``, ``?`` or ``…`` followed by whitespace end a sentence, except after a few common
   abbreviations (``e.g.``, ``Dr.``) and single-letter initials;
3. ``,``, ``;``, ``:`` or a spaced dash followed by whitespace end a clause, but only when both
   sides keep at least :data:`MIN_CLAUSE_WORDS` words, so lists of nouns are not shredded.
"""

from __future__ import annotations

import re

MIN_CLAUSE_WORDS = 3
_LINE = re.compile(r"[^\n]+")
_MARKER = re.compile(r"\s*(?:[-*•+]|\d{1,3}[.)]|[A-Za-z][.)])\s+")
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")
_CLAUSE_END = re.compile(r"(?:[,;:]|\s[—–-])(?=\s)")
_ABBREVIATIONS = frozenset({"e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "st", "no", "fig", "approx", "cf"})
_WORD = re.compile(r"\w+")


def _strip(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _is_abbreviation(text: str, start: int, dot: int) -> bool:
    word = text[start:dot].rsplit(None, 1)[-1].lower() if text[start:dot].strip() else ""
    return word.rstrip(".") in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _sentences(text: str, start: int, end: int, body: int) -> list[tuple[int, int]]:
    """Sentence spans of ``text[start:end]``; boundaries are searched from ``body`` (after a list marker)."""
    spans, cut = [], start
    for m in _SENTENCE_END.finditer(text, body, end):
        if text[m.start()] == "." and m.end() - m.start() == 1 and _is_abbreviation(text, cut, m.start()):
            continue
        spans.append((cut, m.end()))
        cut = m.end()
    spans.append((cut, end))
    return spans


def _words(text: str, start: int, end: int) -> int:
    return len(_WORD.findall(text, start, end))


def _clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split a sentence at clause punctuation when both sides keep enough words."""
    spans, cut = [], start
    for m in _CLAUSE_END.finditer(text, start, end):
        if _words(text, cut, m.end()) >= MIN_CLAUSE_WORDS and _words(text, m.end(), end) >= MIN_CLAUSE_WORDS:
            spans.append((cut, m.end()))
            cut = m.end()
    spans.append((cut, end))
    return spans


def split_segments(text: str) -> list[tuple[int, int]]:
    """The ``[start, end)`` spans of the segments of ``text`` (empty for blank text).

    >>> t = "Sure. You need a pipe.\\n- caps"
    >>> [t[s:e] for s, e in split_segments(t)]
    ['Sure.', 'You need a pipe.', '- caps']
    """
    out: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):
        marker = _MARKER.match(text, line.start(), line.end())
        body = marker.end() if marker else line.start()
        for s_start, s_end in _sentences(text, line.start(), line.end(), body):
            for c_start, c_end in _clauses(text, s_start, s_end):
                span = _strip(text, c_start, c_end)
                if span:
                    out.append(span)
    return out
