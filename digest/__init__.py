"""The daily digest: from the warehouse's rows to text, HTML and an e-mail.

`build` (the rows to a Digest), `render` (text, HTML, the message), `send`
(SMTP), `timeline` (a story's timeline). Nothing is re-exported here.
"""
