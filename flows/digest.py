"""Build the daily digest: query the warehouse -> summarise -> render -> save.

The digest is also attached to the flow run as a markdown artifact. Sending
it over SMTP is a later stage; `dry_run` is the only mode for now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from newswatch.config import load_settings
from newswatch.digest.build import build_digest
from newswatch.digest.model import Digest
from newswatch.digest.render import DigestFiles, write_digest
from newswatch.warehouse.connection import connect
from newswatch.warehouse.digest import DigestArticle, new_articles, record_digest

from .retry import only_transient


@dataclass
class DigestResult:
    day: date
    stories: int
    files: DigestFiles


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[1, 4, 10],
      retry_condition_fn=only_transient)
def query_digest(db: Path, day: date, tz: str, lock_timeout: float) -> list[DigestArticle]:
    with connect(db, lock_timeout=lock_timeout) as con:
        return new_articles(con, day, tz)


@task(cache_policy=NO_CACHE)
def render_digest(
    articles: list[DigestArticle], day: date, tz: str, out_dir: Path, sender: str,
    recipients: list[str],
) -> tuple[Digest, DigestFiles]:
    digest = build_digest(articles, day, tz)
    return digest, write_digest(digest, out_dir, sender=sender, recipients=recipients)


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[1, 4, 10],
      retry_condition_fn=only_transient)
def record_build(
    db: Path, day: date, status: str, stories: int, path: Path, lock_timeout: float
) -> None:
    with connect(db, lock_timeout=lock_timeout) as con:
        record_digest(con, day, status=status, stories=stories, path=str(path))


def _markdown(digest: Digest, files: DigestFiles) -> str:
    lines = [f"# {digest.subject}", ""]
    for story in digest.stories:
        # Titles come from the web: keep them from opening markdown links or HTML.
        title = story.title.replace("[", "(").replace("]", ")").replace("<", "&lt;")
        lines.append(f"- **{title}** ({story.outlet or 'unknown outlet'}): "
                     + ", ".join(f"{name} {n}" for name, n in story.entities))
    if not digest.stories:
        lines.append("A quiet day: no new coverage.")
    lines += ["", f"Saved as `{files.html}`, `{files.text}` and `{files.eml}`."]
    return "\n".join(lines)


@flow(name="daily-digest")
async def daily_digest(
    day: date | None = None,
    db: str | None = None,
    out_dir: str | None = None,
    dry_run: bool = True,
) -> DigestResult:
    """Write the digest of `day` (default: today in the configured time zone).

    `dry_run` records the build as a dry run: nothing is sent either way until
    SMTP delivery lands; the files are always written.
    """
    logger = get_run_logger()
    settings = load_settings(db=db, digests_dir=out_dir)
    day = day or datetime.now(settings.zone).date()
    articles = query_digest(settings.db, day, settings.timezone, settings.lock_timeout)
    digest, files = render_digest(articles, day, settings.timezone, settings.digests_dir,
                                  settings.mail_from, settings.mail_to)
    status = "dry_run" if dry_run else "built"
    record_build(settings.db, day, status, len(digest.stories), files.eml, settings.lock_timeout)
    logger.info("digest for %s: %d stories, written to %s", day, len(digest.stories),
                files.html)
    await create_markdown_artifact(
        key=f"digest-{day.isoformat()}", markdown=_markdown(digest, files),
        description=digest.subject,
    )
    return DigestResult(day, len(digest.stories), files)
