"""Build the daily digest: query the warehouse -> summarise -> render -> save -> send.

The digest is also attached to the flow run as a markdown artifact; sending
is flows/delivery.py.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from newswatch.config import Settings, settings_for
from newswatch.digest.build import build_digest
from newswatch.digest.model import Digest
from newswatch.digest.render import DigestFiles, render_text, write_digest
from newswatch.errors import WarehouseLockedError
from newswatch.warehouse.compact import compact as compact_row_groups
from newswatch.warehouse.connection import connect
from newswatch.warehouse.digest import DigestData, digest_data, record_digest

from .delivery import DigestResult, send_digest
from .retry import warehouse_task


@warehouse_task
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


@warehouse_task
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
            await send_digest(result, digest, settings, to or settings.mail_to, force)
    finally:  # a failed delivery still leaves the warehouse compacted
        if compact:
            compact_warehouse(settings.db, settings.lock_timeout, settings.load_memory_limit)
    return result


def _plain_markdown(text: str) -> str:
    return text.replace("[", "(").replace("]", ")").replace("<", "&lt;")


