"""The HTML report: streaming tallies and samples, matplotlib charts inlined as SVG, one offline file."""

from equidata.report.build import ReportSummary, build_report

__all__ = ["ReportSummary", "build_report"]
