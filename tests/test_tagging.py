"""The tagger, rule by rule, with the shipped watchlist."""

from __future__ import annotations

import pathlib
from collections import Counter

import pytest

from newswatch.extractors.records import Mention
from newswatch.extractors.tagging import Tagger
from newswatch.extractors.watchlist import load_watchlist, parse_watchlist

WATCHLIST = pathlib.Path(__file__).resolve().parent.parent / "seeds" / "watchlist.toml"


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger(load_watchlist(WATCHLIST))


def names(tagger: Tagger, text: str) -> list[tuple[str, str]]:
    """(entity, surface) of the name mentions, checking every span on the way."""
    mentions = tagger.tag(text)
    for m in mentions:
        assert text[m.start_char : m.end_char] == m.surface
    assert [m.start_char for m in mentions] == sorted(m.start_char for m in mentions)
    return [(m.entity_id, m.surface) for m in mentions if m.form == "name"]


def demonyms(tagger: Tagger, text: str) -> list[tuple[str, str]]:
    return [(m.entity_id, m.surface) for m in tagger.tag(text) if m.form == "demonym"]


def count(tagger: Tagger, text: str) -> Counter[str]:
    return Counter(entity for entity, _ in names(tagger, text))


def test_mentions_are_records_with_offsets_and_sentence(tagger):
    text = "Protests spread. Then Tokayev asked the CSTO for help.\nPutin agreed."
    mentions = tagger.tag(text)
    assert mentions[0] == Mention(
        entity_id="tokayev",
        surface="Tokayev",
        start_char=text.index("Tokayev"),
        end_char=text.index("Tokayev") + 7,
        sentence="Then Tokayev asked the CSTO for help.",
        form="name",
    )
    assert [m.entity_id for m in mentions] == ["tokayev", "csto", "putin"]
    assert mentions[2].sentence == "Putin agreed."


def test_possessives_leave_the_clitic_out(tagger):
    text = "Tokayev’s plea, Russia's role and Kazakhstan 's first President"
    assert names(tagger, text) == [
        ("tokayev", "Tokayev"),
        ("russia", "Russia"),
        ("kazakhstan", "Kazakhstan"),
    ]


def test_apostrophe_inside_a_word_is_not_a_possessive(tagger):
    assert names(tagger, "Xi'an is far; Xi’s visit") == [("xi_jinping", "Xi")]


def test_hyphen_compounds_count(tagger):
    text = "Nazarbayev-connected firms, a Russia-linked elite, West-Russia feud, US-Russian talks"
    assert names(tagger, text) == [
        ("nazarbayev", "Nazarbayev"),
        ("russia", "Russia"),
        ("russia", "Russia"),
        ("united_states", "US"),
    ]
    assert demonyms(tagger, text) == [("russia", "Russian")]


def test_russian_is_a_demonym_not_russia(tagger):
    text = "the Russian-led bloc, Russians, a mostly-Russian force, the Russo-Georgian war"
    assert names(tagger, text) == []
    assert demonyms(tagger, text) == [("russia", "Russian"), ("russia", "Russians")] + [
        ("russia", "Russian"),
        ("russia", "Russo"),
    ]


def test_case_matters(tagger):
    assert names(tagger, "Tell us about the campus of russia fans") == []
    assert names(tagger, "the US and the U.S. agreed") == [
        ("united_states", "US"),
        ("united_states", "U.S."),
    ]


def test_akylbek_japarov_is_another_person(tagger):
    text = "Akylbek Japarov, chairman of the cabinet, met President Sadyr Japarov. Japarov said"
    assert names(tagger, text) == [("japarov", "Sadyr Japarov"), ("japarov", "Japarov")]
    assert names(tagger, "Akylbek\u00a0Japarov spoke") == []


def test_nursultan_the_person_and_the_city(tagger):
    text = (
        "Nursultan Nazarbayev left Nur-Sultan; the capital, Nursultan, was Astana. "
        "Nursultan Nazarbaev again. NURSULTAN NAZARBAYEV."
    )
    assert names(tagger, text) == [
        ("nazarbayev", "Nursultan Nazarbayev"),
        ("nur_sultan_astana", "Nur-Sultan"),
        ("nur_sultan_astana", "Nursultan"),
        ("nur_sultan_astana", "Astana"),
        ("nazarbayev", "Nursultan Nazarbaev"),
        ("nazarbayev", "NURSULTAN NAZARBAYEV"),
    ]


def test_not_before_vetoes_a_shorter_form():
    watchlist = parse_watchlist(
        '[[entity]]\nid = "city"\nname = "Nursultan"\nkind = "GPE"\nnot_before = ["Nazarbayev"]\n'
    )
    assert Tagger(watchlist).tag("Nursultan Nazarbayev in Nursultan")[0].start_char == 24


def test_csto_full_name_and_acronym(tagger):
    text = "troops of the Collective Security Treaty Organization (CSTO) and CSTO troops"
    assert count(tagger, text) == {"csto": 3}
    assert names(tagger, text)[0] == ("csto", "Collective Security Treaty Organization")
    assert count(tagger, "the Collective Security Treaty Organisation (CSTO)") == {"csto": 2}


def test_the_treaty_alone_is_not_the_organisation(tagger):
    assert names(tagger, "Article 4 of the Collective Security Treaty (Treaty) states") == []


def test_longest_form_wins(tagger):
    assert names(tagger, "the Kyrgyz Republic and Kyrgyz media") == [
        ("kyrgyzstan", "Kyrgyz Republic")
    ]
    assert demonyms(tagger, "the Kyrgyz Republic and Kyrgyz media") == [("kyrgyzstan", "Kyrgyz")]
    assert names(tagger, "President Kassym-Jomart Tokayev") == [
        ("tokayev", "Kassym-Jomart Tokayev")
    ]


def test_transliterations(tagger):
    text = "Tokaev, Karim Masimov, Secretary Anthony Blinken and Antony Blinken"
    assert names(tagger, text) == [
        ("tokayev", "Tokaev"),
        ("massimov", "Karim Masimov"),
        ("blinken", "Anthony Blinken"),
        ("blinken", "Antony Blinken"),
    ]


def test_cyrillic_with_inflection(tagger):
    text = "Визит Токаева в Казахстане, ОДКБ и России. Токаев, Тоқаев, Россия."
    assert names(tagger, text) == [
        ("tokayev", "Токаева"),
        ("kazakhstan", "Казахстане"),
        ("csto", "ОДКБ"),
        ("russia", "России"),
        ("tokayev", "Токаев"),
        ("tokayev", "Тоқаев"),
        ("russia", "Россия"),
    ]


def test_cyrillic_ending_is_short_and_whole_words_only(tagger):
    # "Российский" is an adjective: the stem "Росси" + 5 letters is not Russia.
    assert names(tagger, "Российский флаг, Токаевский") == []
    assert demonyms(tagger, "российских военных") == [("russia", "российских")]


def test_cyrillic_multiword_forms_inflect_every_word(tagger):
    assert names(tagger, "приказ Андрея Сердюкова и Анатолия Сердюкова") == [
        ("serdyukov", "Андрея Сердюкова")
    ]


def test_nbsp_and_newlines_inside_multiword_forms(tagger):
    text = "troops in\u00a0Kazakhstan; Xi\u00a0Jinping’s nod; Kassym-Jomart\nTokayev"
    assert names(tagger, text) == [
        ("kazakhstan", "Kazakhstan"),
        ("xi_jinping", "Xi\u00a0Jinping"),
        ("tokayev", "Kassym-Jomart\nTokayev"),
    ]
    mention = tagger.tag("He met Xi\u00a0Jinping\u00a0today.")[0]
    assert mention.sentence == "He met Xi Jinping today."


def test_glued_to_a_capital_by_scraping(tagger):
    assert names(tagger, "backing TokayevImage: AP") == [("tokayev", "Tokayev")]
    assert names(tagger, "Tokayevs and Putinism") == []
    assert names(tagger, "USA and USAID") == [("united_states", "USA")]


def test_all_caps_dateline(tagger):
    assert names(tagger, "ALMATY, Kazakhstan (AP) —") == [
        ("almaty", "ALMATY"),
        ("kazakhstan", "Kazakhstan"),
    ]
    assert names(tagger, "KAZAKHSTAN PROTESTS") == [("kazakhstan", "KAZAKHSTAN")]


def test_caps_demonyms_are_not_counted(tagger):
    assert tagger.tag("MOSCOW, Jan 7 (Reuters) - The KREMLIN said") == []


def test_demonyms_are_counted_apart(tagger):
    text = "Kazakh security services, the Kremlin, Moscow’s move, Washington's view, Beijing"
    assert names(tagger, text) == []
    assert demonyms(tagger, text) == [
        ("kazakhstan", "Kazakh"),
        ("russia", "Kremlin"),
        ("russia", "Moscow"),
        ("united_states", "Washington"),
        ("china", "Beijing"),
    ]
    assert {m.form for m in tagger.tag(text)} == {"demonym"}


def test_names_inside_an_institution_name_do_not_count(tagger):
    text = "Harvard University’s Davis Center for Russian and Eurasian Studies; Russian troops"
    assert demonyms(tagger, text) == [("russia", "Russian")]
    assert tagger.tag(text)[0].start_char == text.rindex("Russian")


def test_context_rules_on_demonyms(tagger):
    assert demonyms(tagger, "the Washington Post and George Washington") == []
    assert demonyms(tagger, "the Minsk agreements; Minsk said") == [("belarus", "Minsk")]


def test_sentence_is_the_one_around_the_mention(tagger):
    text = "Mr. Putin spoke. The U.S. Ambassador to Kazakhstan replied.\nKremlin aides left."
    mentions = tagger.tag(text)
    assert [(m.entity_id, m.sentence) for m in mentions] == [
        ("putin", "Mr. Putin spoke."),
        ("united_states", "The U.S. Ambassador to Kazakhstan replied."),
        ("kazakhstan", "The U.S. Ambassador to Kazakhstan replied."),
        ("russia", "Kremlin aides left."),
    ]


def test_text_without_mentions(tagger):
    assert tagger.tag("") == []
    assert tagger.tag("Nothing to see here.") == []
    other = parse_watchlist('[[entity]]\nid = "x"\nname = "Zzyzx"\nkind = "LOC"\n')
    assert Tagger(other).tag("Kazakhstan") == []


def test_spans_hold_on_the_seeds(tagger):
    for path in sorted(WATCHLIST.parent.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        for m in tagger.tag(text):
            assert text[m.start_char : m.end_char] == m.surface
            assert " ".join(m.surface.split()) in m.sentence
