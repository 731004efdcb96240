"""The shop's calendars: working days and holidays, lunar birthdays and festivals.

Pure date arithmetic that config, read, rules and mail all use; imports only the spine.
"""

from pipeline.dates.care_dates import parse_birthday
from pipeline.dates.workdays import WorkCalendar

__all__ = ["WorkCalendar", "parse_birthday"]
