"""The morning emails: composing each rep's list and the 主管's summary, and sending them.

May import the spine, ``dates`` and ``rules`` (to count a rep's day as the rules do).
"""

from pipeline.mail.password import find_password

__all__ = ["find_password"]
