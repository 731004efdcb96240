"""The follow-up mailbox (issue 13): reps' replies in, 跟进记录 rows out, exactly once.

fetch (IMAP), parse (a reply's text into rows), authorise (who may write what),
journal (exactly-once, under output/).  May import the spine and ``read`` (the
register's own ways of reading dates and need words).
"""
