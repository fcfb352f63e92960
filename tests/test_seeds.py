"""Seed files: reading, errors, metadata, and cleaning scored against the gold regions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newswatch.errors import SeedFileError
from newswatch.extractors.seeds import (
    DEFAULT_MAX_SEED_BYTES,
    iter_seed_files,
    load_manifest,
    parse_seed_text,
    read_seed,
)

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
GOLD = json.loads((ROOT / "tests" / "data" / "gold_seeds.json").read_text(encoding="utf-8"))
DOCS = GOLD["docs"]
ARTICLE_REGIONS = {"title", "dek", "body"}

PARAGRAPH = (
    "The government of Kazakhstan said on Tuesday that the foreign troops would begin to "
    "leave the country within two days, once order had been restored in Almaty."
)


def _lines(text: str) -> list[str]:
    """Non-blank lines, NBSP as a space, stripped: the unit the cleaning is scored on."""
    return [s for line in text.split("\n") if (s := line.replace("\xa0", " ").strip())]


def _gold_lines(name: str, article: bool) -> set[str]:
    raw = (SEEDS / name).read_text(encoding="utf-8")
    return {
        line
        for region in DOCS[name]["regions"]
        if (region["region"] in ARTICLE_REGIONS) == article
        for line in _lines(raw[region["start"]:region["end"]])
    }


def test_the_five_seeds_are_listed_in_order():
    assert [p.name for p in iter_seed_files(SEEDS)] == sorted(DOCS)


@pytest.mark.parametrize("name", sorted(DOCS))
def test_title_from_the_text_matches_gold(name):
    assert read_seed(SEEDS / name).title == DOCS[name]["title"]


@pytest.mark.parametrize("name", sorted(DOCS))
def test_cleaning_keeps_the_article_and_nothing_else(name):
    kept = set(_lines(read_seed(SEEDS / name).text))
    article, boilerplate = _gold_lines(name, True), _gold_lines(name, False)
    recall = len(article & kept) / len(article)
    precision = len(article & kept) / len(kept)
    assert (precision, recall) == (1.0, 1.0), (kept - article, article - kept)
    assert not kept & (boilerplate - article)


@pytest.mark.parametrize("name", sorted(DOCS))
def test_cleaning_keeps_the_article_characters(name):
    raw = (SEEDS / name).read_text(encoding="utf-8")
    gold = " ".join(
        raw[r["start"]:r["end"]] for r in DOCS[name]["regions"] if r["region"] in ARTICLE_REGIONS
    )
    assert " ".join(read_seed(SEEDS / name).text.split()) == " ".join(gold.split())


def test_section_headings_inside_the_body_are_kept():
    assert "A Momentous Decision" in read_seed(SEEDS / "001_74ef4f2a31fabf50.txt").text
    assert "What is the CSTO?" in read_seed(SEEDS / "004_5c7cf13bff742ee5.txt").text


def test_outlet_and_date_line_from_the_text():
    fair = read_seed(SEEDS / "001_74ef4f2a31fabf50.txt")
    assert fair.outlet == "Fair Observer"
    assert fair.published_at == datetime(2022, 1, 20, 10, 55, tzinfo=UTC)
    assert "January 20, 2022" not in fair.text
    assert read_seed(SEEDS / "002_672fb6be8c79cdbc.txt").outlet == "Riddle"
    india = read_seed(SEEDS / "003_ba96a2582a58de1c.txt")
    assert (india.outlet, india.author) == ("India Narrative", "Aditi Bhaduri")
    assert read_seed(SEEDS / "000_e517b95cd38eee32.txt").outlet is None


def test_every_seed_is_english():
    assert {read_seed(p).language for p in iter_seed_files(SEEDS)} == {"en"}


def test_manifest_fills_what_the_text_lacks():
    manifest = load_manifest(SEEDS / "manifest.toml")
    assert set(manifest) <= set(DOCS)
    untitled = read_seed(SEEDS / "004_5c7cf13bff742ee5.txt", manifest["004_5c7cf13bff742ee5.txt"])
    assert untitled.title == manifest["004_5c7cf13bff742ee5.txt"]["title"]
    assert untitled.published_at is not None and untitled.published_at.tzinfo is not None
    fp = read_seed(SEEDS / "000_e517b95cd38eee32.txt", manifest["000_e517b95cd38eee32.txt"])
    assert (fp.outlet, fp.published_at) == ("Foreign Policy", datetime(2022, 1, 13, tzinfo=UTC))
    # the text's own date line wins over the manifest
    fair = read_seed(SEEDS / "001_74ef4f2a31fabf50.txt", {"published_at": "2020-01-01"})
    assert fair.published_at == datetime(2022, 1, 20, 10, 55, tzinfo=UTC)
    for path in iter_seed_files(SEEDS):
        article = read_seed(path, manifest.get(path.name))
        assert article.title and article.published_at and article.outlet != ""
        assert article.url is None


def test_manifest_title_overrides_and_values_fill_gaps():
    text = f"Troops Begin to Leave Kazakhstan\n\n{PARAGRAPH}\n"
    article = parse_seed_text("a.txt", text, {
        "title": "Better Title", "outlet": "Example Times", "author": "A. Writer",
        "published_at": "2022-01-13T08:30:00+06:00", "url": "https://example.org/a",
    })
    assert article.title == "Better Title"
    assert article.text.startswith("Troops Begin to Leave Kazakhstan")
    assert (article.outlet, article.author, article.url) == (
        "Example Times", "A. Writer", "https://example.org/a")
    assert article.published_at == datetime(2022, 1, 13, 2, 30, tzinfo=UTC)


def test_a_bad_manifest_date_names_the_file():
    with pytest.raises(SeedFileError, match="a.txt.*not an ISO date"):
        parse_seed_text("a.txt", f"Troops Begin to Leave Kazakhstan\n\n{PARAGRAPH}\n",
                        {"published_at": "mid January"})


def test_a_missing_manifest_is_empty(tmp_path):
    assert load_manifest(tmp_path / "manifest.toml") == {}


def test_a_malformed_manifest_names_the_line(tmp_path):
    path = tmp_path / "manifest.toml"
    path.write_text('["a.txt"]\ntitle = "ok"\noutlet "no equals sign"\n', encoding="utf-8")
    with pytest.raises(SeedFileError, match=r"manifest\.toml.*line 3") as info:
        load_manifest(path)
    assert "\n" not in str(info.value)


def test_a_clean_article_parses_to_itself():
    text = (f"Troops Begin to Leave Kazakhstan\n\n{PARAGRAPH}\n\nWhat Comes Next\n\n"
            f"{PARAGRAPH.replace('two', 'three')}")
    article = parse_seed_text("clean.txt", text)
    assert article.title == "Troops Begin to Leave Kazakhstan"
    assert article.text == text
    assert article.raw == text
    assert (article.seed_file, article.language, article.outlet) == ("clean.txt", "en", None)
    assert article.published_at is None


def test_byline_date_and_source_header_are_read_and_dropped():
    text = (
        "source: https://example.org/story\nWorld\n\nTroops Begin to Leave Kazakhstan\n\n"
        "By Jane Doe\n\n13 Jan 2022, 14:05 GMT\n\nPhoto: Jane Doe / Example\n\n"
        f"{PARAGRAPH}\n\nRead also: Another Story About Russia\n\n{PARAGRAPH}\n\n"
        "Related\n  • A headline about Kazakhstan\n  • Another headline\n"
    )
    article = parse_seed_text("a.txt", text)
    assert article.text == f"Troops Begin to Leave Kazakhstan\n\n{PARAGRAPH}\n\n{PARAGRAPH}"
    assert (article.url, article.author) == ("https://example.org/story", "Jane Doe")
    assert article.published_at == datetime(2022, 1, 13, 14, 5, tzinfo=UTC)


def test_mostly_cyrillic_text_is_russian():
    text = ("Войска ОДКБ начали покидать Казахстан\n\nRead in English\n\n"
            "Миротворцы ОДКБ начали выход из Казахстана в четверг, сообщили в министерстве "
            "обороны; операция завершится к девятнадцатому января.\n")
    article = parse_seed_text("ru.txt", text)
    assert article.language == "ru"
    assert "Read in English" not in article.text


# --- bad files --------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"  \n\t\r\n  "], ids=["empty", "whitespace"])
def test_an_empty_file_is_refused(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(SeedFileError, match="empty.txt.*(empty|whitespace)") as info:
        read_seed(path)
    assert info.value.reason == "empty"


@pytest.mark.parametrize("encoding", ["latin-1", "cp1251"])
def test_a_file_not_in_utf8_is_refused_with_the_offset(tmp_path, encoding):
    path = tmp_path / "legacy.txt"
    prefix = "Troops in Almaty — ".encode()  # valid UTF-8, 21 bytes
    legacy = "Алматы café".encode(encoding, errors="replace")  # "?" for what it lacks
    path.write_bytes(prefix + legacy)
    first_bad = len(prefix) + next(i for i, byte in enumerate(legacy) if byte >= 0x80)
    with pytest.raises(SeedFileError, match=rf"legacy\.txt.*UTF-8.*offset {first_bad}\).*re-save"
                       ) as info:
        read_seed(path)
    assert info.value.reason == "not_utf8"
    assert "\n" not in str(info.value)


def test_a_file_over_the_limit_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("x" * 2_000, encoding="utf-8")
    with pytest.raises(SeedFileError, match=r"big\.txt.*2,000 bytes.*1,000-byte limit") as info:
        read_seed(path, max_bytes=1_000)
    assert info.value.reason == "too_large"
    assert DEFAULT_MAX_SEED_BYTES == 5_000_000


def test_a_missing_file_is_a_seed_file_error(tmp_path):
    with pytest.raises(SeedFileError, match="nothing.txt"):
        read_seed(tmp_path / "nothing.txt")


def test_bom_and_crlf_parse_like_the_original(tmp_path):
    original = (SEEDS / "001_74ef4f2a31fabf50.txt").read_text(encoding="utf-8")
    path = tmp_path / "001_74ef4f2a31fabf50.txt"
    path.write_bytes(b"\xef\xbb\xbf" + original.replace("\n", "\r\n").encode("utf-8"))
    article, expected = read_seed(path), read_seed(SEEDS / path.name)
    assert article.raw == original
    assert (article.title, article.text, article.published_at) == (
        expected.title, expected.text, expected.published_at)
    assert "\r" not in article.text and not article.text.startswith("\ufeff")
