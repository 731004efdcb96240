"""Running unattended: schedule, run lock, log, progress lines, summary.json.

May import the spine only.
"""
