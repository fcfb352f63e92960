"""What story matching reads off an article: its weighted terms."""

from __future__ import annotations

import numpy as np

from newswatch.extractors.records import Mention
from newswatch.stories.terms import (
    HEADLINE_WEIGHT,
    LEAD_CHARS,
    LEAD_WEIGHT,
    Terms,
    article_terms,
    term_hash,
    word_hashes,
)

TEXT = """Ferry capsizes near Mwanza

MWANZA, Tanzania - At least 23 people drowned when the MV Nyamagana Star overturned on \
Lake Victoria on Tuesday, Regional Commissioner Joseph Kisanga said. The ferries' owners \
had been warned, he said."""


def _by_label(terms: Terms) -> dict[str, tuple[float, float, str]]:
    return {label: (float(w), float(c), kind) for label, w, c, kind in
            zip(terms.labels, terms.weights, terms.commonness, terms.kinds, strict=True)}


def test_words_names_and_numbers():
    terms = _by_label(article_terms("Ferry capsizes near Mwanza", TEXT))
    # names: runs of capitalised words, a sentence's opening "The" left out
    assert {"Lake Victoria", "MV Nyamagana Star", "Regional Commissioner Joseph Kisanga"} \
        <= {label for label, (_, _, kind) in terms.items() if kind == "n"}
    assert terms["23"][2] == "d"
    # function words and reporting verbs are no terms
    assert not {"the", "said", "when", "had"} & set(terms)


def test_headline_and_lead_count_more():
    terms = article_terms("Ferry capsizes near Mwanza", TEXT)
    by_label = _by_label(terms)
    # "mwanza": once in the headline, once in the lead ("MWANZA" in the dateline)
    assert by_label["mwanza"][0] == HEADLINE_WEIGHT + LEAD_WEIGHT
    late = article_terms("Title", "Title\n\n" + "x " * LEAD_CHARS + " Zanzibar")
    assert _by_label(late)["zanzibar"][0] == 1.0


def test_plurals_and_possessives_fold_into_one_term():
    terms = article_terms(None, "The ferry sank. Two ferries sank. The ferry's captain fled.")
    assert terms.labels.count("ferry") == 1
    assert _by_label(terms)["ferry"][0] == 2 * LEAD_WEIGHT + LEAD_WEIGHT


def test_watched_entities_are_one_term_whatever_the_spelling():
    text = "Tokayev spoke. Later Tokaev spoke again."
    mentions = [Mention("tokayev", "Tokayev", 0, 7, "Tokayev spoke."),
                Mention("tokayev", "Tokaev", 21, 27, "Later Tokaev spoke again."),
                Mention("kazakhstan", "Kazakh", 30, 36, "x", form="demonym")]
    terms = article_terms(None, text, mentions)
    entity = [(w, k) for w, k in zip(terms.weights, terms.kinds, strict=True) if k == "e"]
    assert entity == [(2 * LEAD_WEIGHT, "e")]  # demonyms are no mention of the name
    assert term_hash("=tokayev") in terms.hashes


def test_common_words_are_known_as_common_rare_ones_as_rare():
    terms = _by_label(article_terms(None, "China and Mwanza and quantum and Kisanga."))
    assert terms["china"][1] > 0.01           # an everyday word in the news
    assert terms["mwanza"][1] < 0.001         # rare: it says a lot
    assert terms["kisanga"][1] == 0.0         # not in the word lists at all


def test_ubiquitous_words_are_left_out_whatever_the_language():
    terms = _by_label(article_terms(None, "Der Präsident und die Regierung sind in Berlin.",
                                    language="de"))
    assert "und" not in terms and "die" not in terms
    assert "berlin" in terms


def test_terms_are_sorted_hashes_with_aligned_columns():
    terms = article_terms("Ferry capsizes near Mwanza", TEXT)
    assert terms.hashes.dtype == np.int64 and np.all(np.diff(terms.hashes) > 0)
    assert len(terms.weights) == len(terms.commonness) == len(terms.labels) \
        == len(terms.kinds) == len(terms)
    assert term_hash("mwanza") == term_hash("mwanza") != term_hash("Mwanza")


def test_an_empty_text_has_no_terms():
    terms = article_terms(None, "")
    assert len(terms) == 0 and terms.labels == () and terms.kinds == ""


def test_word_hashes_are_the_terms_hashes_of_a_sentence():
    hashes, values = word_hashes("Two ferries sank near Mwanza.")
    assert set(hashes.tolist()) == {term_hash(t) for t in ("ferry", "sank", "near", "mwanza")}
    assert np.all((values > 0) & (values <= 1))


def test_a_page_s_language_is_told_by_its_words_whatever_its_label():
    german = "Der Bürgermeister und die Stadträte haben das neue Gesetz beschlossen, " * 3
    for label in ("de", None, "en"):  # a page may say nothing, or the wrong thing
        terms = _by_label(article_terms(None, german, language=label))
        assert not {"der", "und", "die", "das"} & set(terms), label
        assert "bürgermeister" in terms


def test_small_numbers_and_years_weigh_less_than_telling_ones():
    terms = _by_label(article_terms(None, "On 23 May 2018 the bid rose to $121 billion."))
    assert terms["23"][1] > terms["2018"][1] > terms["121"][1] == 0.0


def test_a_language_s_commonness_is_two_small_arrays_that_answer_like_the_word_list():
    # a worker meets tens of languages: each list is kept as hashes and values
    # (16 bytes a word), not as a dict of strings (about 120)
    from wordfreq import word_frequency

    from newswatch.stories.terms import _commonness

    common = _commonness("de")
    assert len(common._hashes) > 20_000
    assert common._hashes.nbytes + common._values.nbytes < 20 * len(common._hashes)
    assert common.get("und") > 0.99 > common.get("bundestag") > 0.0
    assert common.get("qxzvwk") == 0.0 and common.get("qxzvwk", 0.5) == 0.5
    # the more frequent a word in the language, the more common
    words = sorted(("haus", "regierung", "bundestag", "und"),
                   key=lambda w: word_frequency(w, "de"))
    assert [common.get(w) for w in words] == sorted(common.get(w) for w in words)
