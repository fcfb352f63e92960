"""Quality gate: the tagger against the hand-counted mentions of the five seed articles.

Counts per (document, entity) cell, micro-averaged (see tests/gold.py); only
name mentions count for the gates, demonyms are reported and held to a floor.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest
from gold import SEEDS, article_text, gold_counts, load_gold, score, seed_text

from newswatch.extractors.tagging import Tagger
from newswatch.extractors.watchlist import load_watchlist

F1_FLOOR = 0.97
DEMONYM_F1_FLOOR = 0.85


@pytest.fixture(scope="module")
def gold() -> dict:
    return load_gold()


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger(load_watchlist(SEEDS / "watchlist.toml"))


def _counts(tagger: Tagger, gold: dict, text_of: Callable[[str], str]) -> tuple[Counter, Counter]:
    names: Counter = Counter()
    demonyms: Counter = Counter()
    for doc in gold["docs"]:
        for mention in tagger.tag(text_of(doc)):
            bucket = names if mention.form == "name" else demonyms
            bucket[(doc, mention.entity_id)] += 1
    return names, demonyms


def _report(label: str, result: tuple[float, float, float, list[str]]) -> str:
    p, r, f1, misses = result
    lines = [f"{label}: P={p:.3f} R={r:.3f} F1={f1:.3f}", *(f"  {m}" for m in misses)]
    return "\n".join(lines)


def test_gold_covers_the_watchlist(gold, tagger):
    gold_ids = {entity["id"] for entity in gold["entities"]}
    assert gold_ids <= {entity.entity_id for entity in tagger.watchlist}


def test_whole_seed_files(gold, tagger):
    names, demonyms = _counts(tagger, gold, seed_text)
    result = score(names, gold_counts(gold, "n_full_file"))
    print(_report("names, whole files", result))
    demonym_gold = gold_counts(gold, "demonym_or_metonym_full_file")
    print(_report("demonyms, whole files", score(demonyms, demonym_gold)))
    assert result[2] >= F1_FLOOR, _report("names, whole files", result)


def test_article_regions(gold, tagger):
    names, demonyms = _counts(tagger, gold, lambda doc: article_text(gold, doc))
    result = score(names, gold_counts(gold, "n"))
    print(_report("names, articles", result))
    assert result[2] >= F1_FLOOR, _report("names, articles", result)

    demonym_result = score(demonyms, gold_counts(gold, "demonym_or_metonym"))
    print(_report("demonyms, articles", demonym_result))
    assert demonym_result[2] >= DEMONYM_F1_FLOOR, _report("demonyms, articles", demonym_result)


def test_score_counts_per_cell():
    gold = {("a", "x"): 3, ("a", "y"): 1}
    predicted = {("a", "x"): 2, ("b", "x"): 1}
    p, r, f1, misses = score(predicted, gold)
    assert (p, r) == (2 / 3, 2 / 4)
    assert f1 == pytest.approx(2 * p * r / (p + r))
    assert len(misses) == 3
    assert score({}, {})[:3] == (1.0, 1.0, 1.0)
