"""Story dedup on real-looking pairs: copies, follow-ups and distinct articles.

The texts are the five seeds (as ingestion cleans them), the article pages in
tests/pages (as extraction leaves them) and the hand-written texts in
tests/stories (see its README). Copies that only differ by a headline,
boilerplate or a cut ending are built here from those texts.

Run with -s to see the measured margins around the thresholds. Timings:
`python tests/test_dedup.py` (prints, asserts nothing).
"""

from __future__ import annotations

import itertools
import pathlib
import random
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest
from trafilatura.deduplication import Simhash

from newswatch.extractors import dedup
from newswatch.extractors.article import extract_article
from newswatch.extractors.dedup import (
    FOLLOW_UP_THRESHOLD,
    NEAR_DUPLICATE_THRESHOLD,
    Candidate,
    CandidateIndex,
    Fingerprint,
    StoryMatch,
    fingerprint,
    fingerprint_from_row,
    fingerprint_to_row,
    follow_up_score,
    match_story,
    near_duplicate_score,
)
from newswatch.extractors.records import Mention
from newswatch.extractors.seeds import load_manifest, read_seed
from newswatch.extractors.tagging import Tagger
from newswatch.extractors.watchlist import load_watchlist

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

# (earlier article, follow-up written about later developments)
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
NOT_FOLLOW_UPS = [
    (story, other)
    for story in [*ORIGINALS, *(later for _, later in FOLLOW_UPS)]
    for other in OFF_TOPIC
]


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger(load_watchlist(SEEDS / "watchlist.toml"))


@pytest.fixture(scope="module")
def fp(tagger):
    """fp(name): the fingerprint of a named text, tagged with the shipped watchlist."""

    @cache
    def get(name: str) -> Fingerprint:
        body = text(name)
        return fingerprint(body, tagger.tag(body))

    return get


def _id(pair: tuple[str, str]) -> str:
    return " ~ ".join(pair)


# --- the fingerprint --------------------------------------------------------------------


def test_fingerprint_holds_simhash_sketch_and_entities(fp):
    got = fp("seed_000")
    assert 0 < got.simhash < 1 << 64
    assert len(got.shingles) == dedup.SKETCH_SIZE
    assert all(0 <= h < 1 << 63 for h in got.shingles)
    assert dict(got.entities)["tokayev"] == text("seed_000").count("Tokayev") == 8
    assert [e for e, _ in got.entities] == sorted(e for e, _ in got.entities)


def test_simhash_is_trafilaturas(fp):
    for name in ORIGINALS:
        words = dedup._words(text(name))
        assert fp(name).simhash == Simhash(" ".join(words)).hash, name


def test_entities_count_names_not_demonyms():
    mentions = [
        Mention("kazakhstan", "Kazakhstan", 0, 10, "s"),
        Mention("kazakhstan", "Kazakh", 20, 26, "s", form="demonym"),
        Mention("csto", "CSTO", 30, 34, "s"),
        Mention("kazakhstan", "Kazakhstan", 40, 50, "s"),
    ]
    assert fingerprint("some text", mentions).entities == (("csto", 1), ("kazakhstan", 2))


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
    assert empty == Fingerprint(Simhash("").hash, frozenset(), ())
    assert near_duplicate_score(empty, empty) == 0.0
    short = fingerprint("Troops leave Almaty")
    assert len(short.shingles) == 1  # one shingle of all its words
    assert near_duplicate_score(short, fingerprint("troops leave almaty.")) == 1.0
    assert near_duplicate_score(short, fingerprint("Troops reach Almaty")) == 0.0


def test_scores_are_symmetric(fp):
    for a, b in [*NEAR_DUPLICATES[:4], *FOLLOW_UPS, *DISTINCT[:4]]:
        assert near_duplicate_score(fp(a), fp(b)) == near_duplicate_score(fp(b), fp(a))
        assert follow_up_score(fp(a), fp(b)) == follow_up_score(fp(b), fp(a))


# --- near-duplicates --------------------------------------------------------------------


@pytest.mark.parametrize("pair", NEAR_DUPLICATES, ids=_id)
def test_near_duplicates_score_above_the_threshold(fp, pair):
    a, b = pair
    assert near_duplicate_score(fp(a), fp(b)) >= NEAR_DUPLICATE_THRESHOLD


@pytest.mark.parametrize("pair", DISTINCT, ids=_id)
def test_distinct_articles_score_below_the_threshold(fp, pair):
    a, b = pair
    assert near_duplicate_score(fp(a), fp(b)) < NEAR_DUPLICATE_THRESHOLD


def _margins(score, above: list, below: list, threshold: float, name: str,
             above_label: str, below_label: str) -> tuple[float, float]:
    """How far the lowest pair of `above` and the highest of `below` sit from the
    threshold, printed with the pairs that set them."""
    high_scores = {pair: score(fp_a, fp_b) for pair, (fp_a, fp_b) in above}
    low_scores = {pair: score(fp_a, fp_b) for pair, (fp_a, fp_b) in below}
    low = min(high_scores, key=high_scores.get)
    high = max(low_scores, key=low_scores.get)
    margin_above, margin_below = high_scores[low] - threshold, threshold - low_scores[high]
    print(
        f"\n{name} threshold {threshold}: "
        f"lowest {above_label} {high_scores[low]:.3f} ({_id(low)}), margin {margin_above:.3f}; "
        f"highest {below_label} {low_scores[high]:.3f} ({_id(high)}), margin {margin_below:.3f}"
    )
    return margin_above, margin_below


def _fps(fp, pairs) -> list:
    return [(pair, (fp(pair[0]), fp(pair[1]))) for pair in pairs]


def test_near_duplicate_threshold_separates_copies_from_distinct_articles(fp):
    above, below = _margins(near_duplicate_score, _fps(fp, NEAR_DUPLICATES), _fps(fp, DISTINCT),
                            NEAR_DUPLICATE_THRESHOLD, "near-duplicate", "copy", "distinct")
    assert above >= MARGIN and below >= MARGIN


# --- follow-ups -------------------------------------------------------------------------


@pytest.mark.parametrize("pair", FOLLOW_UPS, ids=_id)
def test_follow_ups_score_above_the_threshold(fp, pair):
    earlier, later = pair
    assert follow_up_score(fp(earlier), fp(later)) >= FOLLOW_UP_THRESHOLD


@pytest.mark.parametrize("pair", NOT_FOLLOW_UPS, ids=_id)
def test_other_topics_and_actors_are_not_follow_ups(fp, pair):
    story, other = pair
    assert follow_up_score(fp(story), fp(other)) < FOLLOW_UP_THRESHOLD


def test_follow_up_threshold_separates_follow_ups_from_other_stories(fp):
    above, below = _margins(follow_up_score, _fps(fp, FOLLOW_UPS), _fps(fp, NOT_FOLLOW_UPS),
                            FOLLOW_UP_THRESHOLD, "follow-up", "follow-up", "other")
    assert above >= MARGIN and below >= MARGIN


# --- match_story ------------------------------------------------------------------------

DAY1 = datetime(2022, 1, 12, 9, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)


def candidate(fp, name: str, story: str, seen: datetime) -> Candidate:
    return Candidate(
        article_id=f"a-{name}", story_id=story, first_seen_at=seen, fingerprint=fp(name)
    )


@pytest.mark.parametrize("pair", FOLLOW_UPS, ids=_id)
def test_a_follow_up_joins_the_earlier_story(fp, pair):
    earlier, later = pair
    candidates = [
        candidate(fp, earlier, "s-earlier", DAY1),
        candidate(fp, "unrelated_football", "s-football", DAY1),
        candidate(fp, "other_kyrgyz_tajik_border", "s-border", DAY1),
    ]
    match = match_story(fp(later), DAY2, candidates)
    assert (match.relation, match.story_id, match.matched_article_id) == (
        "follow_up",
        "s-earlier",
        f"a-{earlier}",
    )
    assert match.score >= FOLLOW_UP_THRESHOLD


def test_a_copy_joins_its_story_whatever_the_time(fp):
    for seen in (DAY1, DAY2, DAY2 + timedelta(hours=1)):
        cands = [candidate(fp, "eurasia_desk", "s-massimov", seen)]
        match = match_story(fp("wire_massimov_outlet_a"), DAY2, cands)
        assert (match.relation, match.story_id, match.matched_article_id) == (
            "copy",
            "s-massimov",
            "a-eurasia_desk",
        )
        assert match.score >= NEAR_DUPLICATE_THRESHOLD


def test_the_copy_wins_over_the_follow_up(fp, tagger):
    candidates = [
        candidate(fp, "steppe_courier", "s-deployment", DAY1),  # what it follows up
        candidate(fp, "followup_withdrawal_begins", "s-withdrawal", DAY2 - timedelta(hours=2)),
    ]
    copy = with_boilerplate(trimmed(text("followup_withdrawal_begins")))
    query = fingerprint(copy, tagger.tag(copy))
    assert follow_up_score(query, fp("steppe_courier")) >= FOLLOW_UP_THRESHOLD
    for order in (candidates, candidates[::-1]):
        match = match_story(query, DAY2, order)
        assert (match.relation, match.story_id) == ("copy", "s-withdrawal")


def test_the_best_copy_wins_and_ties_go_to_the_earliest(fp):
    candidates = [
        candidate(fp, "eurasia_desk trimmed", "s-trimmed", DAY1),
        candidate(fp, "eurasia_desk", "s-original", DAY1 + timedelta(hours=1)),
    ]
    match = match_story(fp("eurasia_desk with boilerplate"), DAY2, candidates)
    assert match.story_id == "s-original"  # the full copy scores higher than the trimmed one
    twins = [
        candidate(fp, "eurasia_desk", "s-late", DAY1 + timedelta(hours=1)),
        candidate(fp, "eurasia_desk", "s-early", DAY1),
    ]
    assert match_story(fp("eurasia_desk trimmed"), DAY2, twins).story_id == "s-early"


def test_no_candidates_is_a_new_story(fp):
    assert match_story(fp("seed_000"), DAY2, []) == StoryMatch(None, "new", None, 0.0)


def test_only_unrelated_candidates_is_a_new_story(fp):
    candidates = [candidate(fp, name, f"s-{name}", DAY1) for name in OFF_TOPIC]
    assert match_story(fp("steppe_courier"), DAY2, candidates).relation == "new"


def test_parallel_coverage_of_the_same_news_cycle_is_not_a_follow_up(fp):
    # first seen an hour apart: two outlets covering the same events, not a continuation
    earlier = [candidate(fp, "steppe_courier", "s-deployment", DAY2 - timedelta(hours=1))]
    assert match_story(fp("followup_withdrawal_begins"), DAY2, earlier).relation == "new"
    # nor does a follow-up continue an article seen after it
    later = [candidate(fp, "steppe_courier", "s-deployment", DAY2 + timedelta(days=1))]
    assert match_story(fp("followup_withdrawal_begins"), DAY2, later).relation == "new"


def test_a_text_without_entities_is_never_a_follow_up(fp):
    candidates = [candidate(fp, "unrelated_football", "s-football", DAY1)]
    report = "Riverside beat Northgate 3-0 in the league on Tuesday, a week after the cup tie."
    assert match_story(fingerprint(report), DAY2, candidates).relation == "new"


def test_the_index_matches_as_the_list_does(fp, tagger):
    # every kind of candidate, some copies, some follow-ups, some unrelated, at several times
    names = ["eurasia_desk", "eurasia_desk trimmed", "steppe_courier", "unrelated_football",
             "followup_withdrawal_begins", *OFF_TOPIC]
    cands = [candidate(fp, name, f"s-{i}", DAY1 + timedelta(hours=3 * i))
             for i, name in enumerate(names)]
    index = CandidateIndex(cands)
    assert list(index) == cands
    copy = with_boilerplate(trimmed(text("followup_withdrawal_begins")))
    queries = [fp("wire_massimov_outlet_a"), fp("eurasia_desk with boilerplate"),
               fp("followup_withdrawal_begins"), fp("seed_000"),
               fingerprint(copy, tagger.tag(copy))]
    relations = set()
    for query in queries:
        for when in (DAY1, DAY2, DAY2 + timedelta(days=2)):
            assert match_story(query, when, index) == match_story(query, when, cands)
            relations.add(match_story(query, when, index).relation)
    assert relations == {"copy", "follow_up", "new"}


def test_the_index_matches_as_the_list_does_on_many_random_candidates():
    rng = random.Random(7)
    entities = ["kazakhstan", "russia", "csto", "tokayev", "putin", "almaty"]
    words = [f"w{i}" for i in range(300)]

    def random_fp() -> Fingerprint:  # few entities, counts and simhashes: many ties
        counts = {e: rng.randint(1, 3) for e in rng.sample(entities, rng.randint(0, 3))}
        text = " ".join(rng.choices(words, k=rng.choice([8, 40, 400])))
        return Fingerprint(rng.choice([0, 2**64 - 1, 2**40 + 5, rng.getrandbits(64)]),
                           fingerprint(text).shingles, tuple(sorted(counts.items())))

    cands = [Candidate(f"a{i}", f"s{i % 50}", DAY1 + timedelta(hours=rng.randint(0, 48)),
                       random_fp()) for i in range(300)]
    cands += [Candidate("dup", "s-dup", cands[5].first_seen_at, cands[5].fingerprint)]
    index = CandidateIndex(cands)
    relations = set()
    for query in [random_fp() for _ in range(60)] + [cands[5].fingerprint]:
        for when in (DAY1, DAY2, DAY2 + timedelta(days=1)):
            match = match_story(query, when, index)
            assert match == match_story(query, when, cands)
            relations.add(match.relation)
    assert relations == {"copy", "follow_up", "new"}
    recent = index.pruned(100)  # the 100 most recent, still in the order added
    kept = [c for c in cands if c.first_seen_at >= sorted(c.first_seen_at for c in cands)[-100]]
    assert list(recent) == kept[-100:] and len(recent) == 100
    for query in [random_fp() for _ in range(20)]:
        assert match_story(query, DAY2, recent) == match_story(query, DAY2, list(recent))
    # the pruned index (sliced, not rebuilt) grows and merges like any other
    for i in range(300):
        recent.append(Candidate(f"b{i}", f"t{i % 40}", DAY2 + timedelta(minutes=i), random_fp()))
    for query in [random_fp() for _ in range(20)] + [list(recent)[-3].fingerprint]:
        assert match_story(query, DAY2 + timedelta(days=1), recent) == match_story(
            query, DAY2 + timedelta(days=1), list(recent))


def test_likely_copies_are_the_sharing_candidates_that_score_as_copies():
    # the bulk copy scores keep exactly the candidates _overlap scores at the threshold or more
    from newswatch.extractors.dedup import _overlap

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
    index = CandidateIndex(cands)
    found = sharing = 0
    for query in [fingerprint(variant(rng.choice(bases))) for _ in range(80)]:
        expected = [c for c in index.sharing_hashes(query)
                    if _overlap(query, c.fingerprint) >= NEAR_DUPLICATE_THRESHOLD]
        assert index.likely_copies(query) == expected
        found += len(expected)
        sharing += len(index.sharing_hashes(query))
    assert 0 < found < sharing  # copies are found, and some sharing candidates are not
    first = index.extend(cands[:5])  # an added candidate against those before it
    assert index.likely_copies(cands[0].fingerprint, before=first) == [
        c for c in index.sharing_hashes(cands[0].fingerprint, before=first)
        if _overlap(cands[0].fingerprint, c.fingerprint) >= NEAR_DUPLICATE_THRESHOLD]


def test_a_batch_added_at_once_matches_in_order_as_one_by_one():
    # what assign_stories does: add the batch, then match each article against
    # the candidates before it (the warehouse's and the batch's earlier ones)
    rng = random.Random(11)
    texts = [" ".join(rng.choices([f"w{i}" for i in range(200)], k=300)) for _ in range(7)]
    entities = (("kazakhstan", 3), ("csto", 1))

    def fp(k: int) -> Fingerprint:  # article k copies text k // 3: copies within the batch
        if k >= 16:  # a text of its own, no entities: a new story
            return Fingerprint(rng.getrandbits(64), fingerprint(f"w{k} " * 50).shingles, ())
        return Fingerprint(rng.getrandbits(64), fingerprint(texts[k // 3]).shingles, entities)

    earlier = [Candidate(f"old{i}", f"s{i}", DAY1 + timedelta(hours=i), fp(i)) for i in range(6)]
    batch = [(f"new{k}", DAY2 + timedelta(hours=k), fp(k)) for k in range(6, 18)]
    one_by_one, expected = CandidateIndex(earlier), []
    for aid, when, print_ in batch:
        match = match_story(print_, when, one_by_one)
        assert match == match_story(print_, when, list(one_by_one))
        expected.append(match)
        one_by_one.append(Candidate(aid, match.story_id or aid, when, print_))
    at_once = CandidateIndex(earlier)
    first = at_once.extend([Candidate(aid, aid, when, p) for aid, when, p in batch])
    got = []
    for position, (aid, _, _) in enumerate(batch, start=first):
        got.append(at_once.match_added(position))
        at_once.set_story(position, got[-1].story_id or aid)
    assert got == expected
    assert {m.relation for m in got} == {"copy", "follow_up", "new"}
    assert list(at_once) == list(one_by_one)


def test_batches_added_and_pruned_over_a_run_match_as_the_list_does():
    # what a run of many batches does: each batch is added (a sorted run of hashes of
    # its own), matched in order, and the index is pruned before the next; copies
    # span batches, and some of what they copy is pruned away
    rng = random.Random(13)
    texts = [" ".join(rng.choices([f"w{i}" for i in range(400)], k=300)) for _ in range(12)]
    entities = [(("kazakhstan", 3), ("csto", 1)), (("russia", 2),), ()]

    def fp() -> Fingerprint:
        words = rng.choice(texts).split()
        kept = words[: len(words) * rng.randint(6, 10) // 10]  # a copy, maybe trimmed
        return Fingerprint(rng.getrandbits(64), fingerprint(" ".join(kept)).shingles,
                           rng.choice(entities))

    index = CandidateIndex([Candidate(f"old{i}", f"s{i}", DAY1 + timedelta(hours=i), fp())
                            for i in range(10)])
    relations, merged = [], 0
    for b in range(12):  # more batches than the runs an index keeps apart
        start = DAY2 + timedelta(hours=8 * b)
        batch = [Candidate(f"b{b}-{k}", f"b{b}-{k}", start + timedelta(minutes=20 * k), fp())
                 for k in range(8)]
        first = index.extend(batch)
        for position, cand in enumerate(batch, start=first):
            earlier = list(index)[:position]  # the candidates before it, stories as matched
            match = index.match_added(position)
            assert match == match_story(cand.fingerprint, cand.first_seen_at, earlier)
            relations.append(match.relation)
            index.set_story(position, match.story_id or cand.article_id)
        index.forget_batch()
        merged = max(merged, len(index._runs))
        index = index.pruned(30)
    assert set(relations) == {"copy", "follow_up", "new"}
    assert merged > 1  # batches were kept as runs of their own before a prune merged them


# --- storage ----------------------------------------------------------------------------


def test_row_round_trip_is_lossless(fp):
    names = [*ORIGINALS, *COPIES, *OFF_TOPIC]
    prints = [fp(name) for name in names] + [
        fingerprint(""),
        Fingerprint((1 << 64) - 1, frozenset({0, (1 << 63) - 1}), (("csto", 3),)),
        Fingerprint(1 << 63, frozenset(), ()),
    ]
    assert any(p.simhash >> 63 for p in prints)  # the signed conversion is exercised
    for p in prints:
        row = fingerprint_to_row(p)
        simhash, sketch, ids, counts = row
        assert -(1 << 63) <= simhash < 1 << 63
        assert all(-(1 << 63) <= h < 1 << 63 for h in sketch)
        assert fingerprint_from_row(*row) == p


def test_rows_survive_duckdb_columns(fp):
    duckdb = pytest.importorskip("duckdb")
    prints = [fp(name) for name in ORIGINALS] + [Fingerprint((1 << 64) - 1, frozenset(), ())]
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE fp (i INTEGER, simhash BIGINT, sketch BIGINT[], "
        "entity_ids VARCHAR[], entity_counts INTEGER[])"
    )
    con.executemany(
        "INSERT INTO fp VALUES (?, ?, ?, ?, ?)",
        [(i, *fingerprint_to_row(p)) for i, p in enumerate(prints)],
    )
    rows = con.execute("SELECT simhash, sketch, entity_ids, entity_counts FROM fp ORDER BY i")
    assert [fingerprint_from_row(*row) for row in rows.fetchall()] == prints


# --- timings (not a test) ---------------------------------------------------------------


def report_timings(n_candidates: int = 1000, n_queries: int = 200) -> None:
    """Print ms per fingerprint of a 10 KB article and per match against n candidates.

    Typical: the candidates are distinct articles on the story (paragraphs of the
    test texts with the words of each sentence shuffled: same vocabulary and
    entities, few shared 5-grams), the queries half copies of candidates, half
    new articles. Worst case: every article is made of whole paragraphs from the
    same small pool, so nearly every candidate shares text with the query.
    """
    import random
    import time

    tagger = Tagger(load_watchlist(SEEDS / "watchlist.toml"))
    names = [*ORIGINALS, *(p.stem for p in STORIES.glob("*.txt"))]
    pool = [p for name in names for p in paragraphs(text(name))[1:]]
    rng = random.Random(7)

    def shuffled(paragraph: str) -> str:
        sentences = []
        for sentence in paragraph.split(". "):
            words = sentence.split()
            rng.shuffle(words)
            sentences.append(" ".join(words))
        return ". ".join(sentences)

    def article(distinct: bool) -> str:
        chosen = rng.sample(pool, rng.randint(6, 12))
        return "\n\n".join(shuffled(p) if distinct else p for p in chosen)

    def fp_(body: str) -> Fingerprint:
        return fingerprint(body, tagger.tag(body))

    def ms_per_match(distinct: bool, n: int) -> float:
        seen = datetime(2022, 1, 1, tzinfo=UTC)
        bodies = [article(distinct) for _ in range(n_candidates)]
        candidates = [
            Candidate(f"a{i}", f"s{i}", seen + timedelta(hours=i), fp_(body))
            for i, body in enumerate(bodies)
        ]
        queries = [
            fp_(with_boilerplate(trimmed(rng.choice(bodies))) if i % 2 else article(distinct))
            for i in range(n)
        ]
        now = seen + timedelta(hours=n_candidates + 24)
        start = time.perf_counter()
        for query in queries:
            match_story(query, now, candidates)
        return (time.perf_counter() - start) / n * 1000

    ten_kb = text("seed_002")[:10_000]
    mentions = tagger.tag(ten_kb)
    fingerprint(ten_kb, mentions)  # warm the word memos, as in a running pipeline
    start = time.perf_counter()
    for _ in range(200):
        fingerprint(ten_kb, mentions)
    per_fp = (time.perf_counter() - start) / 200 * 1000
    start = time.perf_counter()
    for _ in range(200):
        Simhash(ten_kb)
    per_simhash = (time.perf_counter() - start) / 200 * 1000
    print(f"fingerprint, 10 KB article: {per_fp:.2f} ms", end=" ")
    print(f"(trafilatura's Simhash(text) alone: {per_simhash:.2f} ms)")
    typical = ms_per_match(distinct=True, n=n_queries)
    print(f"match_story, {n_candidates} candidates, typical: {typical:.2f} ms")
    worst = ms_per_match(distinct=False, n=n_queries // 4)
    print(f"match_story, {n_candidates} candidates, worst case: {worst:.2f} ms")


if __name__ == "__main__":
    report_timings()
