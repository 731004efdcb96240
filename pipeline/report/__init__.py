"""``output/<date>/report.xlsx``: the day's tasks, customers, churn risks, problems and figures.

May import the spine, ``dates``, ``rules`` and ``models``.
"""

from pipeline.report import place
from pipeline.report.workbook import write_report

__all__ = ["place", "write_report"]
