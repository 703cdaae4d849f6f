"""FDC balancing: dedupe classified rows, pick risk groups in a ratio, mix in general data."""

from equidata.balance.dedup import exact_duplicates, near_duplicates
from equidata.balance.params import BalanceParams
from equidata.balance.quotas import DEFAULT_RATIO, SHORTFALL, Plan, apportion, integer_weights, parse_group_numbers, parse_pair_ratio, plan
from equidata.balance.api import GENERAL, BalanceReport, GroupCounts, balance_file
from equidata.balance.select import STRATEGIES, select

__all__ = [
    "DEFAULT_RATIO",
    "GENERAL",
    "SHORTFALL",
    "STRATEGIES",
    "BalanceParams",
    "BalanceReport",
    "GroupCounts",
    "Plan",
    "apportion",
    "balance_file",
    "exact_duplicates",
    "integer_weights",
    "near_duplicates",
    "parse_group_numbers",
    "parse_pair_ratio",
    "plan",
    "select",
]
