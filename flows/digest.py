"""Build the daily digest: query the warehouse -> summarise -> render -> save -> send.

The digest is also attached to the flow run as a markdown artifact. Each
(day, recipient) is sent at most once unless forced; a failed send is
retried with backoff, recorded with its error, and fails the run, after
the files are written and the other recipients served.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import duckdb
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from newswatch.config import Settings, settings_for
from newswatch.digest.build import build_digest
from newswatch.digest.model import Digest
from newswatch.digest.render import DigestFiles, build_message, render_text, write_digest
from newswatch.digest.send import SmtpSettings, send_message, settings_from_block
from newswatch.errors import DeliveryError, WarehouseLockedError
from newswatch.warehouse.compact import compact as compact_row_groups
from newswatch.warehouse.connection import connect
from newswatch.warehouse.digest import DigestData, already_sent, digest_data, record_digest

from .retry import only_transient


@dataclass
class DigestResult:
    day: date
    stories: int
    files: DigestFiles | None     # None: a dry run asked for no files
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)   # sent before, not forced
    failed: dict[str, str] = field(default_factory=dict)
    text: str = ""                # the plain-text digest, when no files were written


@task(cache_policy=NO_CACHE, retry_delay_seconds=[1, 4, 10], retry_jitter_factor=0.5,
      retry_condition_fn=only_transient)
def deliver(message: EmailMessage, recipient: str, smtp: SmtpSettings) -> None:
    """Send the digest to one recipient; transient SMTP failures are retried."""
    send_message(message, [recipient], smtp)


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[1, 4, 10],
      retry_condition_fn=only_transient)
def record_delivery(db: Path, day: date, recipient: str, stories: int, path: Path,
                    error: str | None, lock_timeout: float) -> None:
    with connect(db, lock_timeout=lock_timeout) as con:
        record_digest(con, day, status="failed" if error else "sent", stories=stories,
                      path=str(path), recipient=recipient, error=error,
                      sent_at=None if error else datetime.now(UTC))


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[1, 4, 10],
      retry_condition_fn=only_transient)
def sent_before(db: Path, day: date, recipients: list[str], lock_timeout: float) -> list[str]:
    with connect(db, lock_timeout=lock_timeout) as con:
        return [r for r in recipients if already_sent(con, day, r)]


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[1, 4, 10],
      retry_condition_fn=only_transient)
def query_digest(db: Path, day: date, tz: str, lock_timeout: float,
                 day_of: str = "first_seen", read_only: bool = False) -> DigestData:
    with connect(db, read_only=read_only, lock_timeout=lock_timeout) as con:
        return digest_data(con, day, tz, day_of)


@task(cache_policy=NO_CACHE)
def render_digest(
    data: DigestData, day: date, tz: str, out_dir: Path | None, sender: str,
    recipients: list[str],
) -> tuple[Digest, DigestFiles | None]:
    """The digest, written under `out_dir` (None: not written)."""
    digest = build_digest(data, day, tz)
    if out_dir is None:
        return digest, None
    return digest, write_digest(digest, out_dir, sender=sender, recipients=recipients)


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[1, 4, 10],
      retry_condition_fn=only_transient)
def record_build(
    db: Path, day: date, status: str, stories: int, path: Path, lock_timeout: float
) -> None:
    with connect(db, lock_timeout=lock_timeout) as con:
        record_digest(con, day, status=status, stories=stories, path=str(path))


@task(cache_policy=NO_CACHE)
def compact_warehouse(db: Path, lock_timeout: float, memory_limit: str | None) -> None:
    """The day's maintenance: merge the row groups the day's loads left (see
    warehouse/compact.py). A warehouse held by a load is left for tomorrow."""
    logger = get_run_logger()
    try:
        result = compact_row_groups(db, lock_timeout=lock_timeout, memory_limit=memory_limit)
    except WarehouseLockedError as exc:
        logger.warning("warehouse not compacted today: %s", exc)
        return
    except duckdb.Error as exc:  # the digest is out: maintenance fails on its own
        logger.error("warehouse not compacted: %s", exc)
        return
    logger.info("warehouse compacted: %d row groups merged in %d tables, %.1f s",
                result.merged, len(result.before), result.seconds)


def _markdown(digest: Digest, files: DigestFiles) -> str:
    lines = [f"# {digest.subject}", ""]
    for story in digest.stories:
        # Titles come from the web: keep them from opening markdown links or HTML.
        title = _plain_markdown(story.title)
        kind = " (development)" if story.development else ""
        lines.append(f"- **{title}**{kind} ({_plain_markdown(', '.join(story.outlets))}): "
                     + ", ".join(f"{name} {n}" for name, n in story.entities))
    if not digest.stories:
        lines.append("A quiet day: no coverage of the watchlist.")
    if digest.names:
        lines += ["", "New names: " + ", ".join(
            f"{n.name.replace('[', '(').replace('<', '&lt;')} ({n.mentions})"
            for n in digest.names)]
    lines += ["", f"Saved as `{files.html}`, `{files.text}` and `{files.eml}`."]
    return "\n".join(lines)


@flow(name="daily-digest")
async def daily_digest(
    day: date | None = None,
    db: str | None = None,
    out_dir: str | None = None,
    dry_run: bool = False,
    send: bool = False,
    to: list[str] | None = None,
    force: bool = False,
    days_back: int = 0,
    compact: bool = True,
    day_of: str = "first_seen",
    settings: Settings | None = None,
) -> DigestResult:
    """Write the digest of `day` (default: today in the configured time zone, less
    `days_back` days: the 07:00 deployment digests yesterday), and with `send` (and not
    `dry_run`) e-mail it to `to` (default: the configured mail_to). Then, with
    `compact`, merge the row groups the loads left (after the mail: no one waits).

    `day_of`: "first_seen" counts the articles first seen that day (the daily mail),
    "published" those published that day (history, backfills).

    A `dry_run` changes nothing: it reads the warehouse read-only, records and
    compacts nothing, sends nothing, and writes files only to an `out_dir` given.
    """
    logger = get_run_logger()
    settings = settings_for(settings, db=db, digests_dir=out_dir)
    day = day or datetime.now(settings.zone).date() - timedelta(days=days_back)
    data = query_digest(settings.db, day, settings.timezone, settings.lock_timeout, day_of,
                        read_only=dry_run)
    written_to = settings.digests_dir if out_dir is not None or not dry_run else None
    digest, files = render_digest(data, day, settings.timezone, written_to,
                                  settings.mail_from, settings.mail_to)
    result = DigestResult(day, len(digest.stories), files,
                          text="" if files else render_text(digest))
    logger.info("digest for %s: %d stories%s", day, len(digest.stories),
                f", written to {files.html}" if files else " (dry run: not written)")
    if dry_run:
        return result
    record_build(settings.db, day, "built", len(digest.stories), files.eml,
                 settings.lock_timeout)
    await create_markdown_artifact(
        key=f"digest-{day.isoformat()}", markdown=_markdown(digest, files),
        description=digest.subject,
    )
    try:
        if send and not dry_run:
            await _send(result, digest, settings, to or settings.mail_to, force)
    finally:  # a failed delivery still leaves the warehouse compacted
        if compact:
            compact_warehouse(settings.db, settings.lock_timeout, settings.load_memory_limit)
    return result


def _plain_markdown(text: str) -> str:
    return text.replace("[", "(").replace("]", ")").replace("<", "&lt;")


async def _smtp_settings(settings: Settings) -> SmtpSettings:
    """From prefect-email's EmailServerCredentials block when one is named, else the
    smtp_* settings (the password from NEWSWATCH_SMTP_PASSWORD)."""
    if settings.smtp_block:
        from prefect_email import EmailServerCredentials

        try:
            block = await EmailServerCredentials.aload(settings.smtp_block)
        except ValueError as exc:  # Prefect's "Unable to find block document named ..."
            raise DeliveryError(
                f"no EmailServerCredentials block named {settings.smtp_block!r}") from exc
        return settings_from_block(block, timeout=settings.smtp_timeout,
                                   ca_file=settings.smtp_ca_file)
    return SmtpSettings(
        host=settings.smtp_host, port=settings.smtp_port, security=settings.smtp_security,
        username=settings.smtp_user, timeout=settings.smtp_timeout,
        ca_file=settings.smtp_ca_file,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
    )


async def _send(result: DigestResult, digest: Digest, settings: Settings,
                recipients: list[str], force: bool) -> None:
    logger = get_run_logger()
    if not recipients:
        raise DeliveryError("no recipients: pass --to or set mail_to")
    text, html = result.files.text.read_text(), result.files.html.read_text()
    done = set() if force else set(sent_before(settings.db, result.day, recipients,
                                               settings.lock_timeout))
    smtp = await _smtp_settings(settings)
    attempt = deliver.with_options(retries=settings.smtp_retries)
    for recipient in dict.fromkeys(recipients):
        if recipient in done:
            result.skipped.append(recipient)
            logger.info("digest for %s was sent to %s before: not again (--force to resend)",
                        result.day, recipient)
            continue
        message = build_message(digest, text, html, sender=settings.mail_from,
                                recipients=[recipient])
        error = None
        try:
            attempt(message, recipient, smtp)
            result.sent.append(recipient)
        except DeliveryError as exc:
            error = str(exc)
            result.failed[recipient] = error
            logger.warning("digest for %s not delivered to %s: %s", result.day, recipient, error)
        record_delivery(settings.db, result.day, recipient, result.stories, result.files.eml,
                        error, settings.lock_timeout)
    if result.failed:
        raise DeliveryError(
            f"digest for {result.day} not delivered to {len(result.failed)} of "
            f"{len(recipients)} recipients: " + "; ".join(
                f"{r}: {e}" for r, e in result.failed.items()))
