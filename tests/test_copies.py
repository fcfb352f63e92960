"""Copies on real-looking pairs: near-duplicates against distinct articles.

The texts are the five seeds (as ingestion cleans them), the article pages in
tests/pages (as extraction leaves them) and the hand-written texts in
tests/stories (see its README). Copies that only differ by a headline,
boilerplate or a cut ending are built here from those texts.

Run with -s to see the measured margins around the threshold.
"""

from __future__ import annotations

import itertools
import pathlib
import random
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest

from newswatch.extractors.article import extract_article
from newswatch.extractors.seeds import load_manifest, read_seed
from newswatch.stories import copies
from newswatch.stories.copies import (
    NEAR_DUPLICATE_THRESHOLD,
    Candidate,
    CopyIndex,
    Fingerprint,
    best_copy,
    fingerprint,
    fingerprint_from_row,
    fingerprint_to_row,
    near_duplicate_score,
)

ROOT = pathlib.Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
PAGES = ROOT / "tests" / "pages"
STORIES = ROOT / "tests" / "stories"
MARGIN = 0.05

BOILERPLATE_TOP = "Share on Facebook\n\nShare on X\n\nPrint this article"
BOILERPLATE_BOTTOM = """Sign up for the Central Asia Briefing

Get the day's top stories from Kazakhstan and the region in your inbox every \
morning. Enter your e-mail address and press Subscribe. You can unsubscribe at any time.

Related stories

Kazakhstan's president sacks government after fuel price protests

What is the CSTO? The Russian-led alliance explained

Five things to know about Kazakhstan's oil industry

Follow us on Facebook, X and Telegram.

© 2022 Steppe Courier Media. All rights reserved. This material may not be \
published, broadcast, rewritten or redistributed."""

# The articles as first published: every pair of them is two different articles.
ORIGINALS = {
    "seed_000": "seed:000_e517b95cd38eee32.txt",
    "seed_001": "seed:001_74ef4f2a31fabf50.txt",
    "seed_002": "seed:002_672fb6be8c79cdbc.txt",
    "seed_003": "seed:003_ba96a2582a58de1c.txt",
    "seed_004": "seed:004_5c7cf13bff742ee5.txt",
    "steppe_courier": "page:steppe_courier_deployment.html",
    "eurasia_desk": "page:eurasia_desk_malformed.html",
    "caspian_monitor": "page:caspian_monitor_summit.html",
    "stepnoy_vestnik": "page:stepnoy_vestnik_withdrawal_ru.html",
    "almaty_observer": "page:almaty_observer_explainer.html",
}


def paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n\n") if p.strip()]


def new_headline(text: str, headline: str) -> str:
    return "\n\n".join([headline, *paragraphs(text)[1:]])


def with_boilerplate(text: str) -> str:
    return "\n\n".join([BOILERPLATE_TOP, text, BOILERPLATE_BOTTOM])


def trimmed(text: str, cut: int = 2) -> str:
    return "\n\n".join(paragraphs(text)[:-cut])


@cache
def _manifest() -> dict[str, dict]:
    return load_manifest(SEEDS / "manifest.toml")


@cache
def original(source: str) -> str:
    kind, name = source.split(":")
    if kind == "seed":
        return read_seed(SEEDS / name, _manifest().get(name)).text
    extraction = extract_article((PAGES / name).read_text(encoding="utf-8"))
    assert extraction.article is not None, extraction.reason
    return extraction.article.text


@cache
def text(name: str) -> str:
    """An original, a written story, or a copy built from an original."""
    if name in ORIGINALS:
        return original(ORIGINALS[name])
    if (STORIES / f"{name}.txt").exists():
        return (STORIES / f"{name}.txt").read_text(encoding="utf-8")
    return COPIES[name]()


COPIES = {
    "seed_000 new headline": lambda: new_headline(
        text("seed_000"), "Russian-led troops start to leave Kazakhstan as Tokayev cleans house"
    ),
    "seed_001 new headline": lambda: new_headline(
        text("seed_001"), "The CSTO's first mission sets a precedent for the post-Soviet space"
    ),
    "caspian_monitor new headline": lambda: new_headline(
        text("caspian_monitor"),
        "Putin and Tokayev hail CSTO operation as allies prepare to go home",
    ),
    "seed_000 with boilerplate": lambda: with_boilerplate(text("seed_000")),
    "steppe_courier with boilerplate": lambda: with_boilerplate(text("steppe_courier")),
    "eurasia_desk with boilerplate": lambda: with_boilerplate(text("eurasia_desk")),
    "seed_000 trimmed": lambda: trimmed(text("seed_000")),
    "seed_002 trimmed": lambda: trimmed(text("seed_002")),
    "seed_004 trimmed": lambda: trimmed(text("seed_004")),
    "eurasia_desk trimmed": lambda: trimmed(text("eurasia_desk")),
    # a syndicated copy as it often looks: its own headline, the ending cut, the
    # partner's page furniture around it
    "steppe_courier syndicated": lambda: with_boilerplate(
        trimmed(new_headline(text("steppe_courier"), "Russian paratroopers land in Kazakhstan"))
    ),
}

NEAR_DUPLICATES = [
    ("seed_000", "seed_000 new headline"),
    ("seed_001", "seed_001 new headline"),
    ("caspian_monitor", "caspian_monitor new headline"),
    ("seed_000", "seed_000 with boilerplate"),
    ("steppe_courier", "steppe_courier with boilerplate"),
    ("eurasia_desk", "eurasia_desk with boilerplate"),
    ("seed_000", "seed_000 trimmed"),
    ("seed_002", "seed_002 trimmed"),
    ("seed_004", "seed_004 trimmed"),
    ("eurasia_desk", "eurasia_desk trimmed"),
    ("caspian_monitor", "copyedit_caspian_summit"),
    ("seed_000", "copyedit_seed_000"),
    ("wire_massimov_outlet_a", "wire_massimov_outlet_b"),
    ("eurasia_desk", "wire_massimov_outlet_a"),
    ("eurasia_desk", "wire_massimov_outlet_b"),
    ("steppe_courier", "steppe_courier syndicated"),
]

# (earlier article, follow-up written about later developments): not copies
FOLLOW_UPS = [
    ("steppe_courier", "followup_withdrawal_begins"),
    ("eurasia_desk", "followup_nazarbayev_speaks"),
    ("seed_000", "followup_last_troops_leave"),
]

DISTINCT = [
    *itertools.combinations(ORIGINALS, 2),
    *FOLLOW_UPS,
    ("seed_000", "shared_quote_cooley"),
]

OFF_TOPIC = [
    "unrelated_football",
    "unrelated_product_launch",
    "other_kyrgyz_tajik_border",
    "other_belarus_protests",
]


@pytest.fixture(scope="module")
def fp():
    """fp(name): the fingerprint of a named text."""

    @cache
    def get(name: str) -> Fingerprint:
        return fingerprint(text(name))

    return get


def _id(pair: tuple[str, str]) -> str:
    return " ~ ".join(pair)


# --- the fingerprint --------------------------------------------------------------------


def test_fingerprint_is_a_bottom_k_sketch_of_63_bit_hashes(fp):
    got = fp("seed_000")
    assert len(got.shingles) == copies.SKETCH_SIZE
    assert all(0 <= h < 1 << 63 for h in got.shingles)
    assert got.ordered == tuple(sorted(got.shingles)) and got.limit == max(got.shingles)


def test_british_and_american_spellings_are_the_same_words():
    british = "The organisation criticised the defence programme and its colour centre travelled"
    american = "The organization criticized the defense program and its color center traveled"
    assert fingerprint(british) == fingerprint(american)


def test_case_punctuation_and_line_breaks_do_not_count():
    a = fingerprint("Tokayev asked the CSTO for help.\n\nPutin agreed — at once.")
    b = fingerprint("TOKAYEV asked the  CSTO for help;   Putin agreed at once")
    assert a == b


def test_empty_and_short_texts():
    empty = fingerprint("")
    assert empty == Fingerprint(frozenset())
    assert near_duplicate_score(empty, empty) == 0.0
    short = fingerprint("Troops leave Almaty")
    assert len(short.shingles) == 1  # one shingle of all its words
    assert near_duplicate_score(short, fingerprint("troops leave almaty.")) == 1.0
    assert near_duplicate_score(short, fingerprint("Troops reach Almaty")) == 0.0


def test_scores_are_symmetric(fp):
    for a, b in [*NEAR_DUPLICATES[:4], *FOLLOW_UPS, *DISTINCT[:4]]:
        assert near_duplicate_score(fp(a), fp(b)) == near_duplicate_score(fp(b), fp(a))


# --- near-duplicates --------------------------------------------------------------------


@pytest.mark.parametrize("pair", NEAR_DUPLICATES, ids=_id)
def test_near_duplicates_score_above_the_threshold(fp, pair):
    a, b = pair
    assert near_duplicate_score(fp(a), fp(b)) >= NEAR_DUPLICATE_THRESHOLD


@pytest.mark.parametrize("pair", DISTINCT, ids=_id)
def test_distinct_articles_score_below_the_threshold(fp, pair):
    a, b = pair
    assert near_duplicate_score(fp(a), fp(b)) < NEAR_DUPLICATE_THRESHOLD


def test_near_duplicate_threshold_separates_copies_from_distinct_articles(fp):
    copies_ = {pair: near_duplicate_score(fp(pair[0]), fp(pair[1])) for pair in NEAR_DUPLICATES}
    distinct = {pair: near_duplicate_score(fp(pair[0]), fp(pair[1])) for pair in DISTINCT}
    low, high = min(copies_, key=copies_.get), max(distinct, key=distinct.get)
    above = copies_[low] - NEAR_DUPLICATE_THRESHOLD
    below = NEAR_DUPLICATE_THRESHOLD - distinct[high]
    print(f"\nnear-duplicate threshold {NEAR_DUPLICATE_THRESHOLD}: lowest copy "
          f"{copies_[low]:.3f} ({_id(low)}), margin {above:.3f}; highest distinct "
          f"{distinct[high]:.3f} ({_id(high)}), margin {below:.3f}")
    assert above >= MARGIN and below >= MARGIN


# --- best_copy --------------------------------------------------------------------------

DAY1 = datetime(2022, 1, 12, 9, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)


def candidate(fp, name: str, story: str, seen: datetime) -> Candidate:
    return Candidate(
        article_id=f"a-{name}", story_id=story, first_seen_at=seen, fingerprint=fp(name)
    )


def test_a_copy_is_found_whatever_the_time(fp):
    for seen in (DAY1, DAY2, DAY2 + timedelta(hours=1)):
        cands = [candidate(fp, "eurasia_desk", "s-massimov", seen),
                 candidate(fp, "unrelated_football", "s-football", seen)]
        score, found = best_copy(fp("wire_massimov_outlet_a"), cands)
        assert (found.story_id, found.article_id) == ("s-massimov", "a-eurasia_desk")
        assert score >= NEAR_DUPLICATE_THRESHOLD


def test_a_follow_up_is_no_copy(fp):
    for earlier, later in FOLLOW_UPS:
        assert best_copy(fp(later), [candidate(fp, earlier, "s", DAY1)]) is None


def test_the_best_copy_wins_and_ties_go_to_the_earliest(fp):
    candidates = [
        candidate(fp, "eurasia_desk trimmed", "s-trimmed", DAY1),
        candidate(fp, "eurasia_desk", "s-original", DAY1 + timedelta(hours=1)),
    ]
    _, found = best_copy(fp("eurasia_desk with boilerplate"), candidates)
    assert found.story_id == "s-original"  # the full copy scores higher than the trimmed one
    twins = [
        candidate(fp, "eurasia_desk", "s-late", DAY1 + timedelta(hours=1)),
        candidate(fp, "eurasia_desk", "s-early", DAY1),
    ]
    assert best_copy(fp("eurasia_desk trimmed"), twins)[1].story_id == "s-early"


def test_no_candidates_no_copy(fp):
    assert best_copy(fp("seed_000"), []) is None
    assert best_copy(fp("seed_000"), CopyIndex()) is None


def test_the_index_finds_what_the_list_finds(fp):
    names = ["eurasia_desk", "eurasia_desk trimmed", "steppe_courier", "unrelated_football",
             "followup_withdrawal_begins", *OFF_TOPIC]
    cands = [candidate(fp, name, f"s-{i}", DAY1 + timedelta(hours=3 * i))
             for i, name in enumerate(names)]
    index = CopyIndex(cands)
    assert list(index) == cands
    copy = with_boilerplate(trimmed(text("followup_withdrawal_begins")))
    queries = [fp("wire_massimov_outlet_a"), fp("eurasia_desk with boilerplate"),
               fp("followup_withdrawal_begins"), fp("seed_000"), fingerprint(copy)]
    found = [best_copy(query, index) for query in queries]
    assert found == [best_copy(query, cands) for query in queries]
    assert sum(f is not None for f in found) == 4


def test_the_index_finds_what_the_list_finds_on_many_random_candidates():
    rng = random.Random(7)
    words = [f"w{i}" for i in range(300)]

    def random_fp() -> Fingerprint:
        return fingerprint(" ".join(rng.choices(words, k=rng.choice([8, 40, 400]))))

    cands = [Candidate(f"a{i}", f"s{i % 50}", DAY1 + timedelta(hours=rng.randint(0, 48)),
                       random_fp()) for i in range(300)]
    cands += [Candidate("dup", "s-dup", cands[5].first_seen_at, cands[5].fingerprint)]
    index = CopyIndex(cands)
    for query in [random_fp() for _ in range(60)] + [cands[5].fingerprint]:
        assert best_copy(query, index) == best_copy(query, cands)
    recent = index.pruned(100)  # the 100 most recent, still in the order added
    kept = [c for c in cands if c.first_seen_at >= sorted(c.first_seen_at for c in cands)[-100]]
    assert list(recent) == kept[-100:] and len(recent) == 100
    for query in [random_fp() for _ in range(20)] + [kept[-1].fingerprint]:
        assert best_copy(query, recent) == best_copy(query, list(recent))
    # the pruned index (sliced, not rebuilt) grows and merges like any other
    recent.extend([Candidate(f"b{i}", f"t{i % 40}", DAY2 + timedelta(minutes=i), random_fp())
                   for i in range(300)])
    for query in [random_fp() for _ in range(20)] + [list(recent)[-3].fingerprint]:
        assert best_copy(query, recent) == best_copy(query, list(recent))


def test_likely_copies_are_the_sharing_candidates_that_score_as_copies():
    # the bulk copy scores keep exactly the candidates _overlap scores at the threshold or more
    from newswatch.stories.copies import _overlap

    rng = random.Random(5)
    common = [f"c{i}" for i in range(30)]  # shared phrases: many sketches share hashes
    bases = [" ".join(rng.choices(common + [f"w{i}" for i in range(2000)], k=rng.choice(
        [6, 30, 250, 900]))) for _ in range(40)]

    def variant(text: str) -> str:  # a copy, trimmed, with boilerplate, or unrelated
        words = text.split()
        kind = rng.randrange(4)
        if kind == 0:
            return text
        if kind == 1:
            return " ".join(words[: max(1, len(words) * rng.randint(4, 9) // 10)])
        if kind == 2:
            return text + " " + " ".join(rng.choices(common, k=rng.randint(5, 400)))
        return " ".join(rng.choices(common + ["x", "y"], k=rng.randint(5, 300)))

    cands = [Candidate(f"a{i}", f"s{i}", DAY1, fingerprint(variant(rng.choice(bases))))
             for i in range(200)]
    index = CopyIndex(cands)
    found = sharing = 0
    for query in [fingerprint(variant(rng.choice(bases))) for _ in range(80)]:
        share = [c for c in cands if not query.shingles.isdisjoint(c.fingerprint.shingles)]
        expected = [c for c in share if _overlap(query, c.fingerprint)
                    >= NEAR_DUPLICATE_THRESHOLD]
        assert index.likely_copies(query) == expected
        found += len(expected)
        sharing += len(share)
    assert 0 < found < sharing  # copies are found, and some sharing candidates are not


def test_a_batch_added_at_once_matches_in_order_as_one_by_one():
    # what StoryMatcher does: add the batch, then match each article against
    # the candidates before it (the warehouse's and the batch's earlier ones)
    rng = random.Random(11)
    texts = [" ".join(rng.choices([f"w{i}" for i in range(200)], k=300)) for _ in range(7)]

    def fp(k: int) -> Fingerprint:  # article k copies text k // 3: copies within the batch
        if k >= 16:  # a text of its own: no copy
            return fingerprint(f"w{k} " * 50 + f"own{k}")
        return fingerprint(texts[k // 3])

    earlier = [Candidate(f"old{i}", f"s{i}", DAY1 + timedelta(hours=i), fp(i)) for i in range(6)]
    batch = [(f"new{k}", DAY2 + timedelta(hours=k), fp(k)) for k in range(6, 18)]
    one_by_one, expected = list(earlier), []
    for aid, when, print_ in batch:
        found = best_copy(print_, one_by_one)
        expected.append(found)
        one_by_one.append(Candidate(aid, found[1].story_id if found else aid, when, print_))
    at_once = CopyIndex(earlier)
    first = at_once.extend([Candidate(aid, aid, when, p) for aid, when, p in batch])
    got = []
    for position, (aid, _, _) in enumerate(batch, start=first):
        got.append(at_once.best_added(position))
        at_once.set_story(position, got[-1][1].story_id if got[-1] else aid)
    assert got == expected
    assert any(g is None for g in got) and any(g is not None for g in got)
    assert list(at_once) == one_by_one


def test_batches_added_and_pruned_over_a_run_match_as_the_list_does():
    # what a run of many batches does: each batch is added (a sorted run of hashes of
    # its own), matched in order, and the index is pruned before the next; copies
    # span batches, and some of what they copy is pruned away
    rng = random.Random(13)
    texts = [" ".join(rng.choices([f"w{i}" for i in range(400)], k=300)) for _ in range(12)]

    def fp() -> Fingerprint:
        words = rng.choice(texts).split()
        kept = words[: len(words) * rng.randint(6, 10) // 10]  # a copy, maybe trimmed
        return fingerprint(" ".join(kept))

    index = CopyIndex([Candidate(f"old{i}", f"s{i}", DAY1 + timedelta(hours=i), fp())
                       for i in range(10)])
    found, merged = [], 0
    for b in range(12):  # more batches than the runs an index keeps apart
        start = DAY2 + timedelta(hours=8 * b)
        batch = [Candidate(f"b{b}-{k}", f"b{b}-{k}", start + timedelta(minutes=20 * k), fp())
                 for k in range(8)]
        first = index.extend(batch)
        for position, cand in enumerate(batch, start=first):
            earlier = list(index)[:position]  # the candidates before it, stories as matched
            got = index.best_added(position)
            assert got == best_copy(cand.fingerprint, earlier)
            found.append(got)
            index.set_story(position, got[1].story_id if got else cand.article_id)
        index.forget_batch()
        merged = max(merged, len(index._runs))
        index = index.pruned(30)
    assert any(f is None for f in found) and any(f is not None for f in found)
    assert merged > 1  # batches were kept as runs of their own before a prune merged them


# --- storage ----------------------------------------------------------------------------


def test_row_round_trip_is_lossless(fp):
    names = [*ORIGINALS, *COPIES, *OFF_TOPIC]
    prints = [fp(name) for name in names] + [
        fingerprint(""), Fingerprint(frozenset({0, (1 << 63) - 1}))]
    for p in prints:
        row = fingerprint_to_row(p)
        assert all(-(1 << 63) <= h < 1 << 63 for h in row)
        assert fingerprint_from_row(row) == p
    assert fingerprint_from_row(None) == Fingerprint(frozenset())


def test_rows_survive_duckdb_columns(fp):
    import duckdb

    prints = [fp(name) for name in ORIGINALS] + [Fingerprint(frozenset())]
    con = duckdb.connect()
    con.execute("CREATE TABLE fp (i INTEGER, sketch BIGINT[])")
    appender = con.appender("fp")
    appender.append_rows([(i, fingerprint_to_row(p)) for i, p in enumerate(prints)])
    appender.flush()
    rows = con.execute("SELECT sketch FROM fp ORDER BY i").fetchall()
    assert [fingerprint_from_row(row[0]) for row in rows] == prints
