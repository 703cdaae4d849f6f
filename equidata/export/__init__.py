"""Export preference pairs in trainer layouts: TRL (standard and conversational), OpenRLHF, LLaMA-Factory."""

from equidata.export.formats import FORMATS, META_FIELDS, dataset_info, render, render_prompt
from equidata.export.api import ExportResult, ExportStep, check_pair, export_file

__all__ = ["FORMATS", "META_FIELDS", "ExportResult", "ExportStep", "check_pair", "dataset_info", "export_file", "render", "render_prompt"]
