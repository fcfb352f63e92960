"""A warehouse with a week of coverage, for the digest tests: two earlier articles
in the trailing week, six first seen on 13 January 2022 (copies, a follow-up, a
spike, new names and quotes among them)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from conftest import SEEDS, load

from newswatch.digest.build import build_digest
from newswatch.digest.render import render_html, render_text
from newswatch.extractors.annotate import annotate
from newswatch.extractors.records import Article
from newswatch.extractors.seeds import load_manifest, read_seed
from newswatch.extractors.tagging import Tagger
from newswatch.extractors.watchlist import load_watchlist
from newswatch.warehouse.connection import connect
from newswatch.warehouse.digest import digest_data
from newswatch.warehouse.load import sync_entities

STORIES = Path(__file__).parent / "stories"
TAGGER = Tagger(load_watchlist(SEEDS / "watchlist.toml"))
MANIFEST = load_manifest(SEEDS / "manifest.toml")
TZ = "Asia/Almaty"
DAY = date(2022, 1, 13)


def _at(day: int) -> datetime:
    return datetime(2022, 1, day, 6, tzinfo=UTC)  # noon in Almaty


def _story(name: str, outlet: str, day: int) -> Article:
    text = (STORIES / f"{name}.txt").read_text(encoding="utf-8")
    article = Article(text=text, raw=text, title=text.splitlines()[0], outlet=outlet,
                      url=f"https://{outlet.lower().replace(' ', '-')}.example/{name}",
                      published_at=_at(day))
    return annotate(article, TAGGER)


def seed(prefix: str, day: int, url: str) -> Article:
    [path] = SEEDS.glob(f"{prefix}_*.txt")
    article = read_seed(path, MANIFEST.get(path.name))
    return annotate(replace(article, url=url, published_at=_at(day)), TAGGER)


def build_week(db: Path) -> dict:
    """Load the week into `db`; the day's digest data, Digest, text and HTML."""
    on_day = [
        _story("wire_massimov_outlet_a", "Outlet A", 13),
        _story("wire_massimov_outlet_b", "Outlet B", 13),
        _story("followup_last_troops_leave", "Outlet C", 13),
        _story("shared_quote_cooley", "Outlet E", 13),
        _story("other_kyrgyz_tajik_border", "Outlet D", 13),
        seed("004", 13, "https://cfr.example/what-is-the-csto"),
    ]
    with connect(db) as con:
        sync_entities(con, TAGGER.watchlist)
        load(con, [seed("003", 8, "https://indianarrative.example/nazarbayev")], now=_at(8))
        load(con, [seed("000", 11, "https://foreignpolicy.example/csto-leaves")], now=_at(11))
        load(con, on_day, now=_at(13))
        data = digest_data(con, DAY, TZ)
        names = con.execute("SELECT name, is_new, first_seen FROM digest_new_names(?, ?)",
                            [DAY, TZ]).fetchall()
    digest = build_digest(data, DAY, TZ, now=datetime(2022, 1, 14, 1, tzinfo=UTC))
    return {"db": db, "data": data, "digest": digest, "names": names, "on_day": on_day,
            "text": render_text(digest), "html": render_html(digest)}
