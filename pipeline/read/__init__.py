"""Reading the register: the .xlsx file → a :class:`~pipeline.model.Register` + problems.

May import the spine (config, model, messages, schema) and ``dates`` only; nothing
of the later parts.
"""

from pipeline.read.validate import used_sheets, validate
from pipeline.read.workbook import RegisterError, read_workbook

__all__ = ["RegisterError", "read_workbook", "used_sheets", "validate"]
