"""The in-place update of the register .xlsx: computed columns in, every other byte kept.

Works on the zip and XML parts directly (lock, backup, verify, atomic replace).  May
import the spine only.
"""

from pipeline.writeback.columns import OutColumn
from pipeline.writeback.update import snapshot, update_register

__all__ = ["OutColumn", "snapshot", "update_register"]
