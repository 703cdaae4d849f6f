"""equidata: curate LLM safety preference data the Equilibrate-RLHF way (FDC groups, AMA masks)."""

from equidata.errors import EquidataError, InputError, ParameterError
from equidata.groups import RISK_GROUPS

__version__ = "0.1.0"

__all__ = ["EquidataError", "InputError", "ParameterError", "RISK_GROUPS", "__version__"]
