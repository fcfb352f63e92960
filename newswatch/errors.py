"""The errors newswatch raises, in one small tree.

    NewswatchError
     ├── NothingDoneError        every item of a run failed (exit code 3)
     ├── PermanentError          record it, skip the item, go on: retrying cannot help
     │    ├── SeedFileError      a seed file that is empty, not UTF-8 or too large
     │    ├── WatchlistError     a malformed watchlist (names the file and line)
     │    ├── WarehouseMissingError  no warehouse file yet where one is read
     │    ├── WarehouseError     a warehouse that cannot be opened or written (corrupt, full disk)
     │    ├── SourcesError       a malformed sources file (names the file and line)
     │    ├── SourceParseError   a polled feed or sitemap that cannot be read as one
     │    ├── QueryError         an analyst's query that cannot run
     │    │    └── ReadOnlyQueryError   a write statement sent to `newswatch sql`
     │    ├── PermanentFetchError    404, not HTML, too large, disallowed by robots.txt
     │    └── PermanentDeliveryError login refused, recipient refused, untrusted certificate
     └── TransientError          may succeed later: retried with backoff
          ├── WarehouseLockedError   another process holds the DuckDB file
          ├── TransientFetchError    a timeout, a refused connection, 408, 429, 5xx
          └── TransientDeliveryError SMTP server down or slow, 4xx (greylisting)

    FetchError (a NewswatchError) is the root of both fetch errors: the fetcher itself
    returns a result for every URL, and `FetchResult.raise_for_outcome()` raises these.
    DeliveryError is likewise the root of both e-mail delivery errors.

The CLI turns every NewswatchError into one readable line and a non-zero exit:

    0  done (items that failed are recorded in `rejects` and reported)
    1  an error stopped the command (configuration, warehouse, lock, delivery),
       or Ctrl-C ("Aborted!")
    2  a usage error (an unknown option, a missing argument)
    3  the run went through but nothing could be done: every item failed
"""

from __future__ import annotations


def one_line(error: BaseException | str) -> str:
    """An error's text on one line: DuckDB's and pydantic's messages span several."""
    return " ".join(str(error).split())


class NewswatchError(Exception):
    """Root of every error newswatch raises on purpose."""


class NothingDoneError(NewswatchError):
    """A run that went through and could do nothing: every item failed (each is
    recorded with its reason). The CLI exits 3 for it, not 1."""

    exit_code = 3


class PermanentError(NewswatchError):
    """Retrying will not help: record the reason and move on."""


class TransientError(NewswatchError):
    """Retrying later may help (locks, timeouts, 5xx)."""


class SeedFileError(PermanentError):
    """A seed file that cannot be ingested (empty, not UTF-8, too large).

    `reason` is a short code for the `rejects` table: empty, not_utf8, too_large.
    """

    def __init__(self, message: str, reason: str = "unreadable"):
        self.reason = reason
        super().__init__(message)


class WatchlistError(PermanentError):
    """A malformed watchlist; the message names the file and the line."""

    def __init__(self, path: str, line: int | None, message: str):
        self.path, self.line, self.reason = path, line, message
        where = f"{path}, line {line}" if line else path
        super().__init__(f"{where}: {message}")


class SourcesError(PermanentError):
    """A malformed sources file; the message names the file and the line."""


class UrlFileError(PermanentError):
    """A file of URLs that cannot be read (missing, not UTF-8)."""


class QueryError(PermanentError):
    """An analyst's SQL that cannot run (syntax, unknown table, ...)."""


class WarehouseMissingError(PermanentError):
    """A command that reads the warehouse found no file at the path."""


class WarehouseError(PermanentError):
    """A warehouse file that cannot be opened or written: not a DuckDB file, a
    directory, written by a newer newswatch, a read-only place, a full disk."""


class ReadOnlyQueryError(QueryError):
    """A statement that would change the warehouse, sent to a read-only command."""


class WarehouseLockedError(TransientError):
    """Another process holds the DuckDB file for writing."""


class FetchError(NewswatchError):
    """A URL that could not be fetched; `outcome` is the fetcher's short code for why."""

    def __init__(self, url: str, outcome: str, message: str):
        self.url, self.outcome = url, outcome
        super().__init__(f"{url}: {message}")


class PermanentFetchError(FetchError, PermanentError):
    """Fetching this URL again will not help (404, not HTML, too large, robots.txt)."""


class TransientFetchError(FetchError, TransientError):
    """Fetching this URL later may succeed (timeout, connection error, 408, 429, 5xx)."""


class SourceParseError(PermanentError):
    """A polled feed, sitemap or home page that cannot be read as what it should be.

    `reason` is a short code: empty, not_xml, not_html, not_a_feed, html_served_as_feed,
    self_referencing_index, too_large.
    """

    def __init__(self, reason: str, message: str | None = None, url: str | None = None):
        self.reason, self.url = reason, url
        message = message or reason
        super().__init__(f"{url}: {message}" if url else message)


class DeliveryError(NewswatchError):
    """An e-mail that was not sent; `recipient` names the address at fault, if one is.

    `code` is the SMTP reply code when the server gave one. Messages never hold a password.
    """

    def __init__(self, message: str, recipient: str | None = None, code: int | None = None):
        self.recipient, self.code = recipient, code
        super().__init__(message)


class PermanentDeliveryError(DeliveryError, PermanentError):
    """Sending again will not help (login refused, recipient refused, untrusted certificate)."""


class TransientDeliveryError(DeliveryError, TransientError):
    """Sending later may succeed (server down, timeout, SMTP 4xx such as greylisting)."""
