"""The watchlist file: the shipped one loads, malformed ones name the line to fix."""

from __future__ import annotations

import hashlib
import pathlib

import pytest

from newswatch.errors import WatchlistError
from newswatch.extractors.watchlist import Entity, Watchlist, load_watchlist, parse_watchlist

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "seeds" / "watchlist.toml"

GOLD_KINDS = {
    "csto": "ORG",
    **dict.fromkeys(
        [
            "kazakhstan", "russia", "armenia", "kyrgyzstan", "tajikistan", "belarus",
            "uzbekistan", "china", "united_states", "ukraine", "almaty", "nur_sultan_astana",
        ],
        "GPE",
    ),
    **dict.fromkeys(
        [
            "tokayev", "nazarbayev", "dariga_nazarbayeva", "putin", "pashinyan", "massimov",
            "japarov", "rahmon", "xi_jinping", "blinken", "serdyukov",
        ],
        "PERSON",
    ),
}  # fmt: skip

GOOD = """\
[[entity]]
id = "tokayev"
name = "Kassym-Jomart Tokayev"
kind = "PERSON"
aliases = ["Tokayev"]
transliterations = ["Tokaev"]
cyrillic = ["Токаев"]

[[entity]]
id = "kazakhstan"
name = "Kazakhstan"
kind = "GPE"
demonyms = ["Kazakh", "Kazakhs"]
"""


def _error(text: str) -> WatchlistError:
    with pytest.raises(WatchlistError) as info:
        parse_watchlist(text, "wl.toml")
    return info.value


def test_shipped_watchlist_has_the_gold_entities_with_their_kinds():
    watchlist = load_watchlist(SHIPPED)
    kinds = {entity.entity_id: entity.kind for entity in watchlist}
    assert {k: kinds.get(k) for k in GOLD_KINDS} == GOLD_KINDS
    for entity in watchlist:
        assert entity.name in entity.aliases
        assert entity.aliases, entity.entity_id


def test_shipped_watchlist_has_the_variants_the_story_needs():
    watchlist = load_watchlist(SHIPPED)
    assert {"Tokaev", "Токаев"} <= set(watchlist.by_id("tokayev").aliases)
    assert "Masimov" in watchlist.by_id("massimov").aliases
    assert "Anthony Blinken" in watchlist.by_id("blinken").aliases
    assert {"Kremlin", "Moscow", "Russian"} <= set(watchlist.by_id("russia").demonyms)
    assert "Akylbek" in watchlist.by_id("japarov").not_after
    assert "Nazarbayev" in watchlist.by_id("nur_sultan_astana").not_before


def test_parse_builds_entities_and_a_digest():
    watchlist = parse_watchlist(GOOD)
    assert isinstance(watchlist, Watchlist)
    assert len(watchlist) == 2
    assert watchlist.digest == hashlib.sha256(GOOD.encode()).hexdigest()
    assert watchlist.by_id("tokayev") == Entity(
        entity_id="tokayev",
        name="Kassym-Jomart Tokayev",
        kind="PERSON",
        aliases=("Kassym-Jomart Tokayev", "Tokayev", "Tokaev", "Токаев"),
    )
    assert watchlist.by_id("kazakhstan").demonyms == ("Kazakh", "Kazakhs")
    assert [e.entity_id for e in watchlist] == ["tokayev", "kazakhstan"]
    with pytest.raises(KeyError):
        watchlist.by_id("nobody")


def test_digest_changes_with_the_file():
    assert parse_watchlist(GOOD).digest != parse_watchlist(GOOD + "# note\n").digest


def test_toml_syntax_error_names_its_line():
    text = GOOD.replace('kind = "GPE"', 'kind = GPE"')
    error = _error(text)
    assert error.line == 12
    assert "line 12" in str(error) and "wl.toml" in str(error)


def test_unclosed_array_at_end_of_file_names_the_last_line():
    error = _error(GOOD + 'not_after = ["x",\n')
    assert error.line == 14


def test_missing_kind_names_the_entity_header():
    text = GOOD.replace('kind = "GPE"\n', "")
    error = _error(text)
    assert error.line == 9
    assert "'kind'" in error.reason


def test_unknown_kind_names_the_kind_line():
    error = _error(GOOD.replace('kind = "GPE"', 'kind = "COUNTRY"'))
    assert error.line == 12
    assert "COUNTRY" in error.reason


def test_duplicate_id_names_the_second_id_line():
    error = _error(GOOD.replace('id = "kazakhstan"', 'id = "tokayev"'))
    assert error.line == 10
    assert "duplicate" in error.reason


def test_aliases_not_a_list():
    error = _error(GOOD.replace('aliases = ["Tokayev"]', 'aliases = "Tokayev"'))
    assert error.line == 5
    assert "list" in error.reason


def test_list_of_non_strings():
    error = _error(GOOD.replace('demonyms = ["Kazakh", "Kazakhs"]', "demonyms = [1, 2]"))
    assert error.line == 13


def test_empty_alias_names_its_line_in_a_multiline_list():
    multiline = 'transliterations = [\n  "Tokaev",\n  "",\n]'
    text = GOOD.replace('transliterations = ["Tokaev"]', multiline)
    error = _error(text)
    assert error.line == 8
    assert "empty" in error.reason


def test_unknown_key_names_its_line():
    error = _error(GOOD.replace('cyrillic = ["Токаев"]', 'cyrilic = ["Токаев"]'))
    assert error.line == 7
    assert "cyrilic" in error.reason


def test_unknown_top_level_key():
    error = _error('story = "csto"\n' + GOOD)
    assert error.line == 1


def test_form_claimed_by_two_entities():
    error = _error(GOOD.replace('demonyms = ["Kazakh", "Kazakhs"]', 'aliases = ["Tokaev"]'))
    assert error.line == 13
    assert "tokayev" in error.reason


def test_bad_id():
    error = _error(GOOD.replace('id = "tokayev"', 'id = "Tokayev President"'))
    assert error.line == 2


def test_single_bracket_table():
    error = _error('# story\n[entity]\nid = "x"\nname = "X"\nkind = "GPE"\n')
    assert error.line == 2
    assert "[[entity]]" in error.reason


def test_inline_entities_report_the_entity_key():
    error = _error('entity = [{ id = "x", name = "X" }]\n')
    assert error.line == 1
    assert "'kind'" in error.reason


def test_name_and_demonym_at_once():
    error = _error(GOOD.replace('"Kazakh", "Kazakhs"', '"Kazakh", "Kazakhstan"'))
    assert error.line == 13
    assert "both" in error.reason


def test_no_entities():
    assert _error("# nothing yet\n").line is None


def test_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "watchlist.toml"
    path.write_bytes(GOOD.replace("Токаев", "Tokaev").encode() + b"# caf\xe9\n")
    with pytest.raises(WatchlistError) as info:
        load_watchlist(path)
    assert info.value.line == 14
    assert "UTF-8" in info.value.reason
    assert str(path) in str(info.value)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(WatchlistError) as info:
        load_watchlist(path)
    assert info.value.line is None
    assert "no such file" in str(info.value) and str(path) in str(info.value)


def test_load_reads_a_file(tmp_path):
    path = tmp_path / "watchlist.toml"
    path.write_text(GOOD, encoding="utf-8")
    assert [e.entity_id for e in load_watchlist(path)] == ["tokayev", "kazakhstan"]
    assert [e.entity_id for e in load_watchlist(str(path))] == ["tokayev", "kazakhstan"]
