"""FDC balancing: dedupe classified rows, pick risk groups in a ratio, mix in general data.

The names below load on first use, so a command line can take :mod:`equidata.balance.quotas` without
the deduplication and file code. ``select`` is imported now: a function named like its module would
otherwise be shadowed by the module once anything imports :mod:`equidata.balance.select`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from equidata.balance.select import STRATEGIES, select
from equidata.lazy import lazy_exports

if TYPE_CHECKING:
    from equidata.balance.api import GENERAL, BalanceReport, GroupCounts, balance_file
    from equidata.balance.dedup import exact_duplicates, near_duplicates
    from equidata.balance.params import BalanceParams
    from equidata.balance.quotas import DEFAULT_RATIO, SHORTFALL, Plan, apportion, integer_weights, parse_group_numbers, parse_pair_ratio, plan

_MODULES = {
    "dedup": ("exact_duplicates", "near_duplicates"),
    "params": ("BalanceParams",),
    "quotas": ("DEFAULT_RATIO", "SHORTFALL", "Plan", "apportion", "integer_weights", "parse_group_numbers", "parse_pair_ratio", "plan"),
    "api": ("GENERAL", "BalanceReport", "GroupCounts", "balance_file"),
}
__getattr__, _LAZY = lazy_exports(__name__, _MODULES)
__all__ = sorted([*_LAZY, "STRATEGIES", "select"])
