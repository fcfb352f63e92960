"""The `newswatch` command: a thin front over the flows and the warehouse.

Prefect is imported only by the commands that run flows, so `newswatch sql`
answers at once. Domain errors become one readable line and exit code 1.
"""

from __future__ import annotations

import csv
import json
import logging
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from newswatch.config import Settings, email_address, load_settings
from newswatch.errors import NewswatchError, NothingDoneError, one_line

app = typer.Typer(
    help="newswatch: follow a developing story. Fetch, extract, tag, load into DuckDB, digest.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
ingest_app = typer.Typer(help="Ingest articles into the warehouse.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")

console = Console()
err_console = Console(stderr=True)


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class DayOf(StrEnum):
    first_seen = "first-seen"
    published = "published"


def _settings(ctx: typer.Context) -> Settings:
    return ctx.obj["settings"]


@app.callback()
def main_options(
    ctx: typer.Context,
    db: Annotated[Path | None, typer.Option(
        "--db", help="The DuckDB warehouse (env NEWSWATCH_DB; default data/newswatch.duckdb).",
        show_default=False)] = None,
    config: Annotated[Path | None, typer.Option(
        "--config", help="A TOML configuration file (default: newswatch.toml if present).",
        show_default=False)] = None,
) -> None:
    """newswatch: follow a developing story."""
    _warnings_to_stderr()
    ctx.obj = {"settings": load_settings(config, db=db), "config": config}


def _warnings_to_stderr() -> None:
    """newswatch's own warnings (a locked warehouse waited for, a robots.txt that
    failed) as lines on stderr."""
    logger = logging.getLogger("newswatch")
    if not any(isinstance(h, _Stderr) for h in logger.handlers):
        handler = _Stderr()
        handler.setFormatter(logging.Formatter("newswatch: %(message)s"))
        handler.setLevel(logging.WARNING)
        logger.addHandler(handler)


class _Stderr(logging.StreamHandler):
    """A handler on whatever sys.stderr is when a record comes (tests swap it), for
    when nothing else prints: inside a flow, Prefect's console handler does."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not logging.getLogger().handlers and super().filter(record)

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def _run_flow(coro: Any) -> Any:
    import asyncio

    from newswatch.lifeline import tie_prefect_server

    tie_prefect_server()
    for name in ("prefect.flow_runs", "prefect.task_runs", "prefect.events.utilities"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _OurErrorsOnce) for f in logger.filters):
            logger.addFilter(_OurErrorsOnce())
    return asyncio.run(coro)


class _OurErrorsOnce(logging.Filter):
    """Prefect logs a failed run's exception with its traceback, then the failed
    state: for newswatch's own errors the CLI's one line says it all."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], NewswatchError):
            return False
        if (record.exc_info and "after shutdown" in str(record.exc_info[1])
                and "heartbeat" in record.getMessage()):
            # a run that failed at once: Prefect's heartbeat thread, still starting,
            # cannot send its first beat while the interpreter exits (harmless)
            return False
        message = record.getMessage()
        if record.levelno >= logging.ERROR and (
                "Finished in state Failed" in message or "failed with exception" in message):
            return not any(f"{name}:" in message or f"{name}(" in message
                           for name in _error_names())
        return True


def _error_names() -> set[str]:
    names, todo = set(), [NewswatchError]
    while todo:
        kind = todo.pop()
        names.add(kind.__name__)
        todo += kind.__subclasses__()
    return names


def _print_ingest(summary: Any) -> None:
    console.print(
        f"Seed files: {summary.files}  ingested: {summary.ingested}  "
        f"already held: {summary.already_held}  rejected: {summary.rejected}  "
        f"mentions: {summary.mentions}  ({summary.seconds:.1f} s)"
    )
    for reject in summary.rejects:
        err_console.print(f"[yellow]skipped:[/yellow] {reject.detail}", markup=True,
                          highlight=False)


@ingest_app.command("seeds")
def ingest_seeds_command(
    ctx: typer.Context,
    directory: Annotated[Path | None, typer.Argument(
        help="Folder of seed .txt files (default: ./seeds, else the seeds shipped with "
             "newswatch).", show_default=False)] = None,
) -> None:
    """Ingest seed text files: clean, tag and load them (a Prefect flow)."""
    from newswatch.flows.ingest import ingest_seeds

    settings = _settings(ctx)
    if directory is not None and not directory.is_dir():
        raise NewswatchError(f"no seed folder at {directory}")
    summary = _run_flow(ingest_seeds(
        directory=str(directory) if directory else str(settings.resolved_seeds_dir()),
        db=str(settings.db), settings=settings,
    ))
    _print_ingest(summary)
    if summary.files and not (summary.ingested or summary.already_held):
        raise NothingDoneError(f"nothing ingested: all {summary.files} seed files were "
                               "rejected (see above, and the rejects table)")


@ingest_app.command("urls")
def ingest_urls_command(
    ctx: typer.Context,
    urls: Annotated[list[str] | None, typer.Argument(
        help="Article URLs to fetch.", show_default=False)] = None,
    file: Annotated[Path | None, typer.Option(
        "--file", "-f", help="A file of URLs, one per line ('#' starts a comment; '-' is "
        "standard input).", show_default=False)] = None,
) -> None:
    """Fetch, extract, tag and load web pages (a Prefect flow)."""
    from newswatch.extractors.urls import iter_url_file, read_url_file
    from newswatch.flows.ingest_urls import ingest_urls
    from newswatch.flows.url_list import url_parameters

    if file is not None and str(file) != "-":
        # the flow reads the file itself, a batch at a time: no list of it here
        if not urls and next(iter_url_file(file), None) is None:
            raise NewswatchError(f"no URLs in {file}")
        given = nullcontext({"urls": list(urls or []), "url_file": str(file.resolve())})
    else:
        wanted = list(urls or []) + (read_url_file(file) if file else [])
        if not wanted:
            raise NewswatchError("no URLs given: pass them as arguments or with --file")
        # one flow run for any number of URLs: past Prefect's limit, they go as a file
        given = url_parameters(wanted)
    settings = _settings(ctx)
    with _progress("Fetching") as hook, given as parameters:
        summary = _run_flow(_with_hook(hook, ingest_urls(**parameters, db=str(settings.db),
                                                          settings=settings)))
    console.print(
        f"URLs: {summary.urls}  fetched: {summary.fetched}  not modified: "
        f"{summary.not_modified}  failed: {summary.fetch_failed}  not articles: "
        f"{summary.not_articles}  ingested: {summary.ingested}  already held: "
        f"{summary.already_held}  mentions: {summary.mentions}  ({summary.seconds:.1f} s)",
        highlight=False,
    )
    for reject in summary.rejects:
        err_console.print(Text(f"{reject.reason}: {reject.item}: {reject.detail}"), soft_wrap=True)
    if summary.urls and not (summary.ingested or summary.already_held or summary.not_modified):
        raise NothingDoneError(f"nothing ingested: none of the {summary.urls} URLs gave an "
                               "article (see above, and the rejects table)")


@app.command("poll")
def poll_command(
    ctx: typer.Context,
    backfill: Annotated[bool, typer.Option(
        "--backfill", help="Read every source whole (no conditional request, no backoff): "
        "for a new source's history.")] = False,
    since: Annotated[datetime | None, typer.Option(
        "--since", formats=["%Y-%m-%d"], help="With --backfill: only links published on or "
        "after this day (YYYY-MM-DD).", show_default=False)] = None,
    limit: Annotated[int | None, typer.Option(
        "--limit", min=1, help="With --backfill: at most this many links per source.",
        show_default=False)] = None,
    sources: Annotated[Path | None, typer.Option(
        "--sources", help="The sources file (default: sources.toml in the seeds folder).",
        show_default=False)] = None,
) -> None:
    """Poll the configured sources for new links and ingest them (a Prefect flow)."""
    from newswatch.flows.poll import poll

    if (since or limit) and not backfill:
        raise NewswatchError("--since and --limit go with --backfill")
    settings = _settings(ctx)
    with _progress("Polling") as hook:
        summary = _run_flow(_with_hook(hook, poll(
            db=str(settings.db), sources=str(sources) if sources else None, backfill=backfill,
            since=since.date() if since else None, limit=limit, settings=settings)))
    ingested = summary.ingest.ingested if summary.ingest else 0
    console.print(
        f"Sources: {summary.sources}  polled: {summary.polled}  backed off: {summary.skipped}"
        f"  failed: {summary.failed}  links: {summary.links}  new: {summary.new_links}  "
        + (f"resumed: {summary.resumed_links}  " if summary.resumed_links else "")
        + f"ingested: {ingested}  ({summary.seconds:.1f} s)", highlight=False)
    for line in summary.reports:
        err_console.print(Text(line))
    if summary.polled and summary.failed == summary.polled:
        raise NothingDoneError(f"every source polled failed ({summary.failed})")


@app.command("reprocess")
def reprocess_command(
    ctx: typer.Context,
    since: Annotated[datetime | None, typer.Option(
        "--since", formats=["%Y-%m-%d"], help="Only documents stored on or after this day "
        "(YYYY-MM-DD; default: all).", show_default=False)] = None,
) -> None:
    """Re-extract and re-tag stored raw documents, without fetching (a Prefect flow)."""
    from newswatch.flows.reprocess import reprocess

    settings = _settings(ctx)
    with _progress("Re-processing") as hook:
        summary = _run_flow(_with_hook(hook, reprocess(
            since=since.date() if since else None, db=str(settings.db), settings=settings)))
    console.print(
        f"Raw documents: {summary.documents}  articles: {summary.articles}  changed: "
        f"{summary.changed}  unchanged: {summary.unchanged}  new: {summary.new_articles}  "
        f"not articles: {summary.not_articles}  ({summary.seconds:.1f} s)", highlight=False)


@app.command("compact")
def compact_command(ctx: typer.Context) -> None:
    """Merge the small row groups that loads leave in the warehouse (the daily digest
    does it too): scans stay fast and the file small, with no load paying for it."""
    from newswatch.warehouse.compact import compact

    settings = _settings(ctx)
    result = compact(settings.db, lock_timeout=settings.lock_timeout,
                     memory_limit=settings.load_memory_limit)
    for table, before in result.before.items():
        console.print(f"  {table}: {before} partial row groups -> {result.after[table]}",
                      highlight=False)
    console.print(f"Compacted: {result.merged} row groups merged in {len(result.before)}"
                  f" tables ({result.seconds:.1f} s)", highlight=False)


@app.command("serve")
def serve_command(ctx: typer.Context) -> None:
    """Run the deployments of deployments/prefect.yaml on their schedules on this machine
    (poll every 30 minutes, the digest at 07:00) until Ctrl-C."""
    from newswatch.flows.serve import serve

    serve(_settings(ctx), config=ctx.obj["config"])


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr, shown only on a terminal."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    if not err_console.is_terminal:
        yield lambda done, total: None
        return
    with Progress(f"[bold]{label}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err_console, transient=True) as bar:
        task_id = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task_id, completed=done, total=total)


async def _with_hook(hook: Callable[[int, int], None], coro: Any) -> Any:
    from newswatch.flows.progress import progress_hook

    token = progress_hook.set(hook)
    try:
        return await coro
    finally:
        progress_hook.reset(token)


@app.command("digest")
def digest_command(
    ctx: typer.Context,
    day: Annotated[datetime | None, typer.Option(
        "--date", formats=["%Y-%m-%d"], help="The day, YYYY-MM-DD (default: today in the "
        "configured time zone).", show_default=False)] = None,
    send: Annotated[bool, typer.Option(
        "--send", help="E-mail the digest over SMTP (once per day and recipient).")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Change nothing: print the digest (or write it under --out), "
        "record, compact and send nothing.")] = False,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Write the digest files here (default: the digests_dir setting; "
        "with --dry-run: not written).", show_default=False)] = None,
    to: Annotated[list[str] | None, typer.Option(
        "--to", help="A recipient (repeatable; default: the configured mail_to).",
        show_default=False)] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Send again to recipients who had this day's digest.")] = False,
    by: Annotated[DayOf, typer.Option(
        "--by", help="Count a day's articles by when they were first seen (the daily "
        "mail) or by when they were published (history, backfills).")] = DayOf.first_seen,
) -> None:
    """Build the daily digest: text, HTML and .eml under digests/, and e-mail it with
    --send (a Prefect flow)."""
    from newswatch.flows.digest import daily_digest

    if send and dry_run:
        raise NewswatchError("--send and --dry-run exclude each other")
    try:
        to = [email_address(address) for address in to] if to else to
    except ValueError as exc:
        raise NewswatchError(f"--to: {exc}") from None
    settings = _settings(ctx)
    out_dir = out or (None if dry_run else settings.digests_dir)
    result = _run_flow(daily_digest(
        day=day.date() if day else None, db=str(settings.db),
        out_dir=str(out_dir) if out_dir else None, dry_run=dry_run, send=send, to=to,
        force=force, day_of=by.value.replace("-", "_"), settings=settings,
    ))
    if result.files is None:
        sys.stdout.write(result.text)
        return
    console.print(f"Digest for {result.day}: {_stories(result.stories)}")
    for path in (result.files.text, result.files.html, result.files.eml):
        console.print(f"  {path}", highlight=False)
    for recipient in result.sent:
        console.print(f"  sent to {recipient}", highlight=False)
    for recipient in result.skipped:
        console.print(f"  already sent to {recipient} (--force sends again)", highlight=False)


@app.command("sql")
def sql_command(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="SQL to run; read-only (SELECT, SHOW, ...).")],
    output: Annotated[OutputFormat, typer.Option(
        "--format", "-f", help="Output format.")] = OutputFormat.table,
    max_rows: Annotated[int | None, typer.Option(
        "--max-rows", min=1, help="Print at most this many rows (default: the sql_max_rows "
        "setting, 100,000).", show_default=False)] = None,
) -> None:
    """Run read-only SQL against the warehouse and print the result.

    The query sees the warehouse and nothing else: no files, no network, no
    settings; it is stopped after the sql_timeout setting (60 s).
    """
    from newswatch.warehouse.query import analyst_connection, run_query

    settings = _settings(ctx)
    with analyst_connection(settings.db, settings.lock_timeout) as con:
        result = run_query(con, query, max_rows=max_rows or settings.sql_max_rows,
                           timeout=settings.sql_timeout)
        if output is OutputFormat.csv:
            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(result.columns)
            writer.writerows(result.rows)
        elif output is OutputFormat.json:
            for row in result.rows:
                sys.stdout.write(json.dumps(dict(zip(result.columns, row, strict=True)),
                                            default=_json_default, ensure_ascii=False) + "\n")
        else:
            table = Table(*result.columns, show_lines=False)
            for row in result.rows:
                # cells are data, never rich markup: a title may hold "[bold]"
                table.add_row(*(Text("" if v is None else str(v)) for v in row))
            console.print(table)
        if result.truncated:
            err_console.print(f"newswatch: only the first {max_rows or settings.sql_max_rows:,} "
                              "rows were printed (--max-rows changes it)", highlight=False)


def _stories(n: int) -> str:
    return f"{n} stor{'y' if n == 1 else 'ies'}"


@app.command("story")
def story_command(
    ctx: typer.Context,
    story_id: Annotated[str | None, typer.Argument(
        help="A story id (from the stories table), or its first characters; without "
             "one, the stories last reported.", show_default=False)] = None,
) -> None:
    """Print a story's timeline: its articles in publication order, each with how it
    joined the story and what it added."""
    from newswatch.digest.timeline import render_timeline
    from newswatch.warehouse.connection import connect
    from newswatch.warehouse.stories import find_story, recent_stories, timeline

    settings = _settings(ctx)
    with connect(settings.db, read_only=True, lock_timeout=settings.lock_timeout) as con:
        if story_id is None:
            table = Table("story", "articles", "began", "latest", "title",
                          title="Stories last reported")
            for sid, count, title, began, latest in recent_stories(con):
                table.add_row(sid, str(count), began.astimezone(settings.zone).date().isoformat(),
                              latest.astimezone(settings.zone).date().isoformat(),
                              Text(title or ""))
            console.print(table)
            return
        found = find_story(con, story_id.strip())
        if not found:
            raise NewswatchError(f"no story {story_id!r}: list them with `newswatch story`")
        if len(found) > 1 and story_id not in found:
            raise NewswatchError(f"{story_id!r} starts several stories ({', '.join(found)}):"
                                 " give more of the id")
        sid = story_id if story_id in found else found[0]
        text = render_timeline(sid, timeline(con, sid), settings.timezone)
    sys.stdout.write(text)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


@app.command("demo")
def demo_command(ctx: typer.Context) -> None:
    """Run the whole pipeline offline on the seeds: ingest, then today's digest."""
    from newswatch.flows.digest import daily_digest
    from newswatch.flows.ingest import ingest_seeds
    from newswatch.warehouse.connection import connect

    settings = _settings(ctx)
    summary = _run_flow(ingest_seeds(directory=str(settings.resolved_seeds_dir()),
                                     db=str(settings.db), settings=settings))
    _print_ingest(summary)
    result = _run_flow(daily_digest(db=str(settings.db), out_dir=str(settings.digests_dir),
                                    settings=settings))
    with connect(settings.db, read_only=True) as con:
        articles = con.execute("SELECT count(*) FROM articles").fetchall()[0][0]
        per_entity = con.execute(
            "SELECT e.name, count(m.entity_id) AS n FROM entities e"
            " LEFT JOIN mentions m USING (entity_id) GROUP BY e.name"
            " HAVING n > 0 ORDER BY n DESC, e.name"
        ).fetchall()
    table = Table("entity", "mentions", title=f"{articles} articles in {settings.db}")
    for name, n in per_entity:
        table.add_row(name, str(n))
    console.print(table)
    console.print(f"Digest for {result.day}: {_stories(result.stories)}, written to")
    for path in (result.files.text, result.files.html, result.files.eml):
        console.print(f"  {path}", highlight=False)
    _print_seed_story(settings)
    console.print('Try: newswatch sql "SELECT title, outlet FROM articles"')


def _print_seed_story(settings: Settings) -> None:
    """The seeds' largest story as it developed (the demo's last word)."""
    from newswatch.digest.timeline import render_timeline
    from newswatch.warehouse.connection import connect
    from newswatch.warehouse.stories import timeline

    with connect(settings.db, read_only=True) as con:
        rows = con.execute("SELECT story_id FROM articles WHERE seed_file IS NOT NULL"
                           " GROUP BY story_id ORDER BY count(*) DESC, story_id LIMIT 1"
                           ).fetchall()
        if not rows:
            return
        entries = timeline(con, rows[0][0])
    console.print(f"\nThe seeds' story as it developed (newswatch story {rows[0][0]}):\n")
    sys.stdout.flush()
    sys.stdout.write(render_timeline(rows[0][0], entries, settings.timezone))


def main() -> None:
    """Console-script entry point."""
    from newswatch.prefect_env import quiet_prefect

    quiet_prefect()
    try:
        app()
    except NewswatchError as exc:
        # plain stderr: one line, never wrapped or styled
        sys.stderr.write(f"newswatch: error: {one_line(exc)}\n")
        _drop_frames(exc)
        raise SystemExit(getattr(exc, "exit_code", 1)) from None


def _drop_frames(exc: BaseException | None) -> None:
    """Let go of the failed run's frames: Prefect keeps the exception in the run's
    state, and DuckDB objects still held at exit print "nanobind: leaked ..." lines."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if exc.__traceback__ is not None:
            traceback.clear_frames(exc.__traceback__)
            exc.__traceback__ = None
        exc = exc.__cause__ or exc.__context__
