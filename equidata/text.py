"""Text keys: one normalisation for duplicate grouping, one for comparing response segments.

:func:`normalise_text` keys duplicates (training folds, balance's exact dedup, synthesis);
:func:`normalise_segment` is stricter and serves AMA's shared-segment test.
"""

from __future__ import annotations

import unicodedata


def _collapse_spaces(text: str) -> str:
    return " ".join(text.split())


def normalise_text(text: str) -> str:
    """Case- and whitespace-insensitive key used for duplicate grouping."""
    return _collapse_spaces(text.lower())


def normalise_segment(text: str) -> str:
    """Text compared for sharing: NFKC, case-folded, punctuation dropped, spacing collapsed."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _collapse_spaces("".join(ch for ch in folded if not unicodedata.category(ch).startswith("P")))
