"""Sending the digest: each (day, recipient) at most once unless forced; a failed
send is retried with backoff, recorded with its error, and fails the run after the
other recipients are served."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from newswatch.config import Settings
from newswatch.digest.model import Digest
from newswatch.digest.render import DigestFiles, build_message
from newswatch.digest.send import SmtpSettings, send_message, settings_from_block
from newswatch.errors import DeliveryError
from newswatch.warehouse.connection import connect
from newswatch.warehouse.digest import already_sent, record_digest

from .retry import only_transient, warehouse_task


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


@warehouse_task
def record_delivery(db: Path, day: date, recipient: str, stories: int, path: Path,
                    error: str | None, lock_timeout: float) -> None:
    with connect(db, lock_timeout=lock_timeout) as con:
        record_digest(con, day, status="failed" if error else "sent", stories=stories,
                      path=str(path), recipient=recipient, error=error,
                      sent_at=None if error else datetime.now(UTC))


@warehouse_task
def sent_before(db: Path, day: date, recipients: list[str], lock_timeout: float) -> list[str]:
    with connect(db, lock_timeout=lock_timeout) as con:
        return [r for r in recipients if already_sent(con, day, r)]


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


async def send_digest(result: DigestResult, digest: Digest, settings: Settings,
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
