"""Stories: which story each new article joins, and why. Plain Python, no Prefect, no DuckDB.

A story is the coverage of one event and its continuation: copies of one
text, independent reports of the same event, later developments. The flows
call `StoryMatcher.match` between tagging and loading; the warehouse stores
the decisions it returns.

Nothing heavy is imported here: `newswatch.stories.terms` runs in every
extraction worker.
"""
