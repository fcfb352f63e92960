"""Which story an article belongs to: a copy of one, a follow-up to one, or a new one.

Exact duplicates (same canonical URL, same content hash) are handled before
this module. Here an article's `Fingerprint` is compared with those of
articles already in the warehouse:

- near-duplicates (syndicated copies, the same wire story under another
  headline or intro, with boilerplate, a trimmed ending or light copy edits)
  share most of their word 5-grams: they join that story as a "copy";
- follow-ups share the main watched entities and some content but not the
  wording, and come later: they join the earlier article's story;
- anything else starts a new story.

    fp = fingerprint(article.text, article.mentions)
    match = match_story(fp, first_seen_at, candidates)

A fingerprint is small and plain (`fingerprint_to_row`), so the warehouse
stores it with the article instead of re-reading old texts.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from hashlib import blake2b
from operator import xor

import numpy as np
from trafilatura.deduplication import sample_tokens

from .records import Mention

__all__ = [
    "FOLLOW_UP_MIN_GAP",
    "FOLLOW_UP_THRESHOLD",
    "NEAR_DUPLICATE_THRESHOLD",
    "Candidate",
    "CandidateIndex",
    "Fingerprint",
    "StoryMatch",
    "fingerprint",
    "fingerprint_from_row",
    "fingerprint_to_row",
    "follow_up_score",
    "match_story",
    "near_duplicate_score",
]

logger = logging.getLogger(__name__)

SHINGLE_WORDS = 5
SKETCH_SIZE = 200
SIMHASH_BITS = 64

# Both thresholds are measured by tests/test_dedup.py on pairs built from seeds/,
# tests/pages/ and tests/stories/ (pytest -s prints the margins).
# Copies score >= 0.69 (the lowest: a trimmed copy with boilerplate and its own
# headline), distinct articles <= 0.12 (the highest: two articles sharing one
# quoted paragraph): margins 0.19 and 0.38. The threshold sits nearer the copies
# because a missed copy only shows twice in the digest, a false one hides an article.
NEAR_DUPLICATE_THRESHOLD = 0.5
# Follow-ups score >= 0.465, articles on other topics or other countries' actors
# <= 0.19: margins 0.135 and 0.14.
FOLLOW_UP_THRESHOLD = 0.33
# Other outlets' articles of the same news cycle are parallel coverage, not a
# continuation: a follow-up comes at least this long after what it follows.
FOLLOW_UP_MIN_GAP = timedelta(hours=6)

# A copy this close is as good as any: matching stops there, which keeps a
# burst of syndicated copies from costing a full comparison with each other.
_SURE_COPY = 0.95
# Entities say who a story is about; the 64-bit Simhash is a noisy topic signal
# (about +-0.06 between unrelated texts), so it gets the smaller weight.
_ENTITY_WEIGHT = 0.7

# bulk (numpy, float64) and one-by-one copy scores differ by float rounding at most this
_ROUNDING = 1e-9
# bulk (numpy, float32) and one-by-one scores of a pair differ by float rounding
# at most this: the bulk pass keeps every candidate this close to its best, and
# the one-by-one scores decide among them
_BULK_ROUNDING = 1e-5
# Candidate objects an index keeps made for comparisons (besides its last batch's)
_KEEP_MADE = 4096
# sorted runs of sketch hashes an index keeps apart before merging them into one
_MAX_RUNS = 8
# _follow_up's content term by the number of Simhash bits that differ (as _topic)
_TOPIC_SCORE = ((1 - _ENTITY_WEIGHT) * np.maximum(
    0.0, 2 * (1 - np.arange(SIMHASH_BITS + 1) / SIMHASH_BITS) - 1)).astype(np.float32)
# without a shared entity, no follow-up however alike the words (as _follow_up): the
# bulk scores rely on the topic term alone falling short of the threshold
assert _TOPIC_SCORE.max() < FOLLOW_UP_THRESHOLD - _BULK_ROUNDING

_MASK64 = (1 << 64) - 1
_MASK63 = (1 << 63) - 1  # shingle hashes fit a signed BIGINT as they are
_WORD = re.compile(r"[^\W_]+")
# British -> American spellings, so that a copy edited across the Atlantic stays a
# copy. Both sides get the same rules: an over-eager rule only merges rare words.
_SPELLING = [
    (re.compile(r"isation(s?)$"), r"ization\1"),
    (re.compile(r"^(.{3,}[^aeiou])is(e|es|ed|ing)$"), r"\1iz\2"),
    (re.compile(r"ys(e|es|ed|ing)$"), r"yz\1"),
    (re.compile(r"^(.{3,})our(s|ed|ing|ite|ites|able)?$"), r"\1or\2"),
    (re.compile(r"^(.{2,})(t|b)re(s?)$"), r"\1\2er\3"),
    (re.compile(r"^(.{2,}[aeiou])ll(ed|ing|er|ers)$"), r"\1l\2"),
    (re.compile(r"(fen|licen)ce(s?)$"), r"\1se\2"),
]
_SPELLING_WORDS = {
    "programme": "program",
    "programmes": "programs",
    "judgement": "judgment",
    "grey": "gray",
}


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What dedup keeps of an article's text.

    `simhash`: trafilatura's 64-bit Simhash of the normalised words; `shingles`:
    the SKETCH_SIZE smallest hashes of its word 5-grams (a bottom-k MinHash
    sketch); `entities`: (entity_id, count) of its name mentions, sorted.
    """

    simhash: int
    shingles: frozenset[int]
    entities: tuple[tuple[str, int], ...]
    # derived once, not once per comparison: up to where the sketch holds every
    # hash of its set, and the sketch sorted (to count hashes below a value)
    limit: int = field(init=False, repr=False, compare=False)
    ordered: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "limit", _sketch_limit(self.shingles))
        object.__setattr__(self, "ordered", tuple(sorted(self.shingles)))

    def __reduce__(self) -> tuple:
        # Pickled (from an extraction worker) with its derived fields, the sorted
        # tuple came back holding 200 int objects of its own: ~8 KB more for each
        # fingerprint the story index keeps. Rebuilt here, it shares the set's.
        return (Fingerprint, (self.simhash, self.shingles, self.entities))


@dataclass(frozen=True, slots=True)
class Candidate:
    """An earlier article already in the warehouse."""

    article_id: str
    story_id: str
    first_seen_at: datetime
    fingerprint: Fingerprint


class CandidateIndex:
    """Candidates, in the order added, indexed for `match_story`; plain arrays inside.

    A copy shares a sketch hash: sorted arrays of the candidates' hashes (one
    per batch added, merged when the index is pruned) find those. A follow-up
    is scored against every earlier candidate sharing an entity, which in a
    news stream is nearly all of them: their entity
    shares (one contiguous row per entity), Simhash and dates are numpy arrays
    scored at once. A candidate becomes a `Candidate` object only when it is
    compared one by one (or asked for), so that thousands of them cost a few
    KB each, and reading them from the warehouse needs no Python object per hash.
    The match is the one `match_story` finds in the plain list of the same candidates.

    A batch is added at once (`extend`) and then matched in order
    (`match_added`): each of its articles against the candidates before it.
    """

    def __init__(self, candidates: Sequence[Candidate] = ()):
        self._ids: list[str] = []
        self._stories: list[str] = []
        self._when: list[datetime] = []
        self._entities: list[tuple[tuple[str, int], ...]] = []
        # each candidate's sketch, sorted, in a row padded with _MASK63 (rows, not a
        # list of arrays: likely_copies counts hashes below a value in hundreds at once).
        # A row's last cell is its sketch's Fingerprint.limit: the largest hash of a
        # full sketch, the padding (_MASK63) of a shorter one.
        self._grid = np.full((64, SKETCH_SIZE), _MASK63, dtype=np.int64)
        self._length = np.zeros(64, dtype=np.int32)  # each sketch's length
        # every sketch hash, sorted, with the candidate of each: one run per batch
        # added (merging a batch into one sorted array copied every hash each time)
        self._runs: list[_Run] = []
        self._columns: dict[str, int] = {}           # entity id -> row of _shares
        self._shares = np.zeros((16, 64), np.float32)  # [entity, candidate]
        self._simhash = np.zeros(64, dtype=np.uint64)
        self._seen = np.zeros(64)                    # first_seen_at, POSIX seconds
        self._batch: dict[int, Candidate] = {}       # the last batch added, being matched
        self._made: dict[int, Candidate] = {}        # Candidate objects made lately
        # the hashes two or more candidates hold, sorted (few: copies share them)
        self._shared = np.zeros(0, dtype=np.int64)
        self._by_time: _ByTime | None = None         # see _sorted_by_time
        self.extend(candidates)

    # --- adding -------------------------------------------------------------------------

    def append(self, cand: Candidate) -> None:
        self.extend([cand])

    def extend(self, cands: Sequence[Candidate]) -> int:
        """Add candidates in order; return the position of the first."""
        first = self.add_columns(
            [c.article_id for c in cands], [c.story_id for c in cands],
            [c.first_seen_at for c in cands], [c.fingerprint.simhash for c in cands],
            [c.fingerprint.entities for c in cands],
            np.fromiter((h for c in cands for h in c.fingerprint.ordered), np.int64),
            [len(c.fingerprint.ordered) for c in cands],
        )
        # a batch about to be matched: its objects are at hand (making them again from
        # the arrays cost more than matching); `forget_batch` lets them go
        self._batch = dict(enumerate(cands, start=first))
        return first

    def forget_batch(self) -> None:
        """The last batch is matched: its Candidate objects are no longer needed."""
        self._batch = {}

    def add_columns(
        self, ids: Sequence[str], stories: Sequence[str], when: Sequence[datetime],
        simhashes: Sequence[int], entities: Sequence[tuple[tuple[str, int], ...]],
        hashes: np.ndarray, lengths: Sequence[int],
    ) -> int:
        """`extend` from columns, as read from the warehouse: the sketches' hashes as one
        int64 array (each sketch sorted, one after another) and each sketch's length.

        (One array, not one per sketch: reading 5,000 candidates peaked at 2.5 times
        what their index then holds, with the hashes split up and joined again.)
        """
        first, n = len(self._ids), len(ids)
        self._ids += ids
        self._stories += stories
        self._when += when
        self._entities += entities
        self._reserve(first + n)
        lengths = np.asarray(lengths, dtype=np.int64)
        ends = np.cumsum(lengths)
        self._length[first:first + n] = lengths
        for row, start, end in zip(range(first, first + n), (ends - lengths).tolist(),
                                   ends.tolist(), strict=True):
            self._grid[row, :end - start] = hashes[start:end]
        self._simhash[first:first + n] = np.fromiter(simhashes, np.uint64, n)
        self._seen[first:first + n] = [w.timestamp() for w in when]
        # each candidate's share of mentions per entity (as _shares), in bulk
        pairs = [pair for ents in entities for pair in ents]
        if pairs:
            columns = np.fromiter(  # (_column may widen the array: before indexing it)
                (self._column(entity) for entity, _ in pairs), np.intp, len(pairs))
            counts = np.fromiter((count for _, count in pairs), np.float64, len(pairs))
            rows = np.repeat(np.arange(n), np.fromiter(map(len, entities), np.intp, n))
            totals = np.bincount(rows, weights=counts, minlength=n)[rows]
            self._shares[columns, rows + first] = np.divide(  # (no mentions: no shares)
                counts, totals, out=np.zeros_like(counts), where=totals > 0)
        if n:
            order = np.argsort(hashes)  # equal hashes may come in any order
            rows = np.repeat(np.arange(first, first + n, dtype=np.int32), lengths)[order]
            self._add_run(_Run(hashes[order], rows))
            self._by_time = None
        return first

    def _add_run(self, run: _Run) -> None:
        """Add a run of hashes; the hashes held twice or more grow by those it repeats."""
        held = [run.hashes[1:][run.hashes[1:] == run.hashes[:-1]]]
        for other in self._runs:
            held.append(run.hashes[other.holds(run.hashes)])
        self._runs.append(run)
        if len(self._runs) > _MAX_RUNS:  # many small batches: one run again
            self._runs = [_merged(self._runs)]
        # (np.unique of all of them took 0.1 s a batch: only the new ones are sorted in)
        new = np.unique(np.concatenate(held))
        new = new[~_holds(self._shared, new)]
        self._shared = np.insert(self._shared, np.searchsorted(self._shared, new), new)

    def _reserve(self, size: int) -> None:
        if size > len(self._seen):
            grow = _room(size) - len(self._seen)
            self._shares = np.hstack(
                [self._shares, np.zeros((len(self._shares), grow), np.float32)])
            self._simhash = np.concatenate([self._simhash, np.zeros(grow, np.uint64)])
            self._seen = np.concatenate([self._seen, np.zeros(grow)])
            self._grid = np.vstack(
                [self._grid, np.full((grow, SKETCH_SIZE), _MASK63, dtype=np.int64)])
            self._length = np.concatenate([self._length, np.zeros(grow, np.int32)])

    def _column(self, entity: str) -> int:
        if entity not in self._columns:
            if len(self._columns) == len(self._shares):
                self._shares = np.vstack([self._shares, np.zeros_like(self._shares)])
            self._columns[entity] = len(self._columns)
        return self._columns[entity]

    def set_story(self, position: int, story_id: str) -> None:
        """The story the candidate at `position` joined (once its batch's match is known)."""
        self._stories[position] = story_id
        for made in (self._batch, self._made):
            cand = made.get(position)
            if cand is not None:
                made[position] = Candidate(
                    cand.article_id, story_id, cand.first_seen_at, cand.fingerprint)

    def pruned(self, keep: int) -> CandidateIndex:
        """An index of the `keep` most recent candidates (by first_seen_at), in order.

        Sliced out of this one's arrays (still sorted): rebuilding it cost
        seconds, every time a long run passed the cap.
        """
        if len(self._ids) <= keep:
            return self
        n = len(self._ids)
        cutoff = sorted(self._when)[-keep]
        positions = [p for p, w in enumerate(self._when) if w >= cutoff][-keep:]
        kept = np.array(positions, dtype=np.int64)
        renumber = np.full(n, -1, dtype=np.int64)
        renumber[kept] = np.arange(len(kept))
        index = CandidateIndex()
        for name in ("_ids", "_stories", "_when", "_entities"):
            column = getattr(self, name)
            setattr(index, name, [column[p] for p in positions])
        # the kept hashes in one run: a batch's run keeps some candidates for long
        # (they are kept by date), and each run costs every later batch a search.
        # Copied run by run into one array: this is the index's peak of memory.
        held = [renumber[run.rows] >= 0 for run in self._runs]
        total = sum(int(np.count_nonzero(h)) for h in held)
        hashes, rows, at = np.empty(total, np.int64), np.empty(total, np.int32), 0
        for run, mask in zip(self._runs, held, strict=True):
            count = int(np.count_nonzero(mask))
            hashes[at:at + count] = run.hashes[mask]
            rows[at:at + count] = renumber[run.rows[mask]]
            at += count
        index._runs = [_sorted_run(hashes, rows)]
        del hashes, rows
        index._shared = self._shared[index._runs[0].count(self._shared) >= 2]
        index._columns = dict(self._columns)
        size = _room(len(kept))
        index._shares = np.zeros((len(self._shares), size), np.float32)
        index._shares[:, :len(kept)] = self._shares[:, kept]
        index._simhash = np.zeros(size, dtype=np.uint64)
        index._simhash[:len(kept)] = self._simhash[kept]
        index._seen = np.zeros(size)
        index._seen[:len(kept)] = self._seen[kept]
        index._grid = np.full((size, SKETCH_SIZE), _MASK63, dtype=np.int64)
        index._grid[:len(kept)] = self._grid[kept]
        index._length = np.zeros(size, dtype=np.int32)
        index._length[:len(kept)] = self._length[kept]
        return index

    # --- reading ------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[Candidate]:
        return (self.candidate(p) for p in range(len(self._ids)))

    def sketch(self, position: int) -> np.ndarray:
        """The sketch of the candidate at `position`, sorted."""
        return self._grid[position, :self._length[position]]

    def candidate(self, position: int) -> Candidate:
        made = self._batch.get(position) or self._made.get(position)
        if made is None:
            if len(self._made) >= _KEEP_MADE:  # made for a comparison: a few are enough
                self._made.clear()
            sketch = self.sketch(position)
            fp = Fingerprint(int(self._simhash[position]), frozenset(sketch.tolist()),
                             self._entities[position])
            made = self._made[position] = Candidate(
                self._ids[position], self._stories[position], self._when[position], fp)
        return made

    def sharing_hashes(self, fp: Fingerprint, before: int | None = None,
                       query: np.ndarray | None = None) -> list[Candidate]:
        """Candidates (before position `before`) whose sketch shares a hash with fp's,
        in the order added. `query`: fp's sketch as a sorted array, when at hand.

        With `before`, fp is the candidate at that position: its own hashes are in
        the index, so only those held twice or more are looked up.
        """
        if not self._runs or not fp.shingles:
            return []
        if query is None:
            query = np.fromiter(fp.ordered, np.int64, len(fp.ordered))
        if before is not None:
            query = query[_holds(self._shared, query)]
            if not len(query):
                return []
        rows, _ = self._holders(query, before)
        return [self.candidate(p) for p in np.unique(rows).tolist()]

    def _holders(self, query: np.ndarray, before: int | None) -> tuple[np.ndarray, np.ndarray]:
        """(candidate, hash) for every candidate (before `before`) holding a query hash."""
        found = [run.holders(query) for run in self._runs]
        rows = np.concatenate([rows for rows, _ in found])
        hashes = np.concatenate([hashes for _, hashes in found])
        if before is not None:
            keep = rows < before
            rows, hashes = rows[keep], hashes[keep]
        return rows, hashes

    def likely_copies(self, fp: Fingerprint, before: int | None = None,
                      query: np.ndarray | None = None) -> list[Candidate]:
        """`sharing_hashes`, without the candidates whose near-duplicate score, computed
        in bulk as `_overlap` computes it one by one, falls short of the threshold.

        Common phrases put the same small hashes in many sketches: in a news stream
        an article shares one with dozens of others that it does not copy.
        """
        if not self._runs or not fp.shingles:
            return []
        full = np.fromiter(fp.ordered, np.int64, len(fp.ordered)) if query is None else query
        query = full
        if before is not None:  # fp is the candidate at `before`: see sharing_hashes
            query = query[_holds(self._shared, query)]
            if not len(query):
                return []
        rows, hashes = self._holders(query, before)
        if not len(rows):
            return []
        cands, which = np.unique(rows, return_inverse=True)
        limit = np.minimum(self._grid[cands, -1], fp.limit)
        shared = np.bincount(which, weights=hashes <= limit[which], minlength=len(cands))
        below_a = np.searchsorted(full, limit, "right")
        # each candidate's hashes up to the limit (its padding counts only at _MASK63)
        below_b = np.minimum(np.count_nonzero(self._grid[cands] <= limit[:, None], axis=1),
                             self._length[cands])
        with np.errstate(divide="ignore", invalid="ignore"):
            resemblance = shared / (below_a + below_b - shared)
            score = (resemblance + shared / np.minimum(below_a, below_b)) / 2
        close = cands[(shared > 0) & (score >= NEAR_DUPLICATE_THRESHOLD - _ROUNDING)]
        return [self.candidate(p) for p in close.tolist()]

    def best_follow_ups(
        self, fp: Fingerprint, shares: dict[str, float], latest: datetime,
        before: int | None = None,
    ) -> list[Candidate]:
        """The candidates (before position `before`) first seen by `latest` whose
        follow-up score, computed in bulk, is within rounding of the highest (if
        that reaches the threshold)."""
        # Only candidates first seen by `latest` count: in time order they are a
        # prefix, often a small one (a follow-up comes hours after what it follows).
        # This runs once per new article, often over none: the prefix is found with
        # bisect and an empty one returns before any numpy call (each costs ~1-2 us);
        # then float32 and few passes.
        by_time = self._sorted_by_time()
        n = bisect_right(by_time.seen, latest.timestamp())
        known = [entity for entity in shares if entity in self._columns]
        if not n or not known:
            return []
        mine = np.array([shares[entity] for entity in known], np.float32)
        # the weighted Jaccard's sum of minima: the article's own entities' rows at once
        low = by_time.shares[[self._columns[entity] for entity in known], :n]  # (a copy)
        np.minimum(low, mine[:, None], out=low)
        low = np.add.reduce(low, axis=0)
        differ = np.bitwise_count(by_time.simhash[:n] ^ np.uint64(fp.simhash))
        scores = np.take(_TOPIC_SCORE, differ)  # (twice as fast as indexing)
        part = np.subtract(2, low)
        np.divide(low, part, out=part)
        part *= _ENTITY_WEIGHT
        scores += part
        # (a candidate sharing no entity scores its topic term alone, below the
        # threshold: _TOPIC_SCORE's bound, so no mask of them is needed)
        # A batch added in time order has nothing at or after `before` in the prefix:
        # the running maximum of positions says so without a pass over the scores.
        if before is not None and by_time.highest[n - 1] >= before:
            scores[by_time.positions[:n] >= before] = -1.0
        best = scores.max(initial=-1.0)
        if best < FOLLOW_UP_THRESHOLD - _BULK_ROUNDING:
            return []
        close = np.sort(by_time.positions[np.flatnonzero(scores >= best - _BULK_ROUNDING)])
        return [self.candidate(p) for p in close.tolist()]

    def _sorted_by_time(self) -> _ByTime:
        """The follow-up columns in first_seen_at order, made once per batch added."""
        if self._by_time is None:
            n = len(self._ids)
            order = np.argsort(self._seen[:n], kind="stable")
            self._by_time = _ByTime(order, np.maximum.accumulate(order),
                                    self._seen[order].tolist(),
                                    # (C order: indexing by columns left it strided)
                                    np.take(self._shares, order, axis=1),
                                    self._simhash[order])
        return self._by_time

    def match_added(self, position: int) -> StoryMatch:
        """`match_story` for the candidate at `position` against those added before it."""
        fp = self.candidate(position).fingerprint
        latest = self._when[position] - FOLLOW_UP_MIN_GAP
        return _match_indexed(fp, latest, self, position, self.sketch(position))


@dataclass(frozen=True, slots=True)
class _Run:
    """Sketch hashes of a batch of candidates, sorted, and the candidate holding each."""

    hashes: np.ndarray  # int64
    rows: np.ndarray    # int32

    def holds(self, query: np.ndarray) -> np.ndarray:
        """Which of the query hashes this run holds (a boolean mask)."""
        return _holds(self.hashes, query)

    def count(self, query: np.ndarray) -> np.ndarray:
        """How many times this run holds each query hash."""
        return (np.searchsorted(self.hashes, query, "right")
                - np.searchsorted(self.hashes, query, "left"))

    def holders(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(candidate, hash) for every holder of a query hash in this run."""
        query = query[self.holds(query)]
        first = np.searchsorted(self.hashes, query, "left")
        held = np.searchsorted(self.hashes, query, "right") - first
        # the index of every holder: each hash's span [first, first + held) in hashes
        starts = np.repeat(first - np.cumsum(held) + held, held)
        at = starts + np.arange(len(starts))
        return self.rows[at], np.repeat(query, held)


def _room(count: int) -> int:
    """Rows for `count` candidates and the batches a run adds to them before the next
    pruning (RecentStories prunes past 1.2 times its bound): growing copies every array."""
    return max(64, count + count // 2)


def _holds(ordered: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Which of the query values the sorted array holds (a boolean mask)."""
    if not len(ordered):
        return np.zeros(len(query), bool)
    at = np.minimum(np.searchsorted(ordered, query), len(ordered) - 1)
    return ordered[at] == query


def _merged(runs: Sequence[_Run]) -> _Run:
    """One run of the hashes of several."""
    return _sorted_run(
        np.concatenate([run.hashes for run in runs] or [np.zeros(0, np.int64)]),
        np.concatenate([run.rows for run in runs] or [np.zeros(0, np.int32)]))


def _sorted_run(hashes: np.ndarray, rows: np.ndarray) -> _Run:
    """A run of hashes (sorted runs one after another) and their candidates."""
    order = np.argsort(hashes, kind="stable")  # (timsort merges the runs it finds)
    return _Run(hashes[order], rows[order])


@dataclass(frozen=True, slots=True)
class _ByTime:
    """A CandidateIndex's follow-up columns, sorted by first_seen_at."""

    positions: np.ndarray  # the candidate of each row
    highest: np.ndarray    # the highest position up to each row
    seen: list[float]      # (a list: bisect finds a prefix faster than numpy does)
    shares: np.ndarray
    simhash: np.ndarray


@dataclass(frozen=True, slots=True)
class StoryMatch:
    """The story an article joins (None: a new one), how, and through which article."""

    story_id: str | None
    relation: str  # "new" | "copy" | "follow_up"
    matched_article_id: str | None
    score: float


def fingerprint(text: str, mentions: Sequence[Mention] = ()) -> Fingerprint:
    """The fingerprint of an article's text and of the tagger's mentions in it."""
    words = _words(text)
    entities = Counter(m.entity_id for m in mentions if m.form == "name")
    return Fingerprint(_simhash(words), _sketch(words), tuple(sorted(entities.items())))


def near_duplicate_score(a: Fingerprint, b: Fingerprint) -> float:
    """How much wording two texts share, 0..1.

    The mean of the shingles' Jaccard resemblance and the containment of one
    text in the other: a trimmed copy, or one with boilerplate added, keeps a
    containment near 1 while its resemblance drops.
    """
    if not a.shingles or not b.shingles:
        return 0.0
    return _overlap(a, b)


def follow_up_score(a: Fingerprint, b: Fingerprint) -> float:
    """How much two articles are about the same actors and matters, 0..1.

    Entity overlap (weighted Jaccard of each article's share of mentions per
    entity, so that length does not count) blended with content similarity
    (Simhash similarity, rescaled so that unrelated texts score about 0).
    """
    return _follow_up(_shares(a.entities), a.simhash, b)


def match_story(
    fp: Fingerprint, first_seen_at: datetime, candidates: Sequence[Candidate] | CandidateIndex
) -> StoryMatch:
    """The story an article joins: its best copy, else its best follow-up, else a new one.

    A follow-up only continues a candidate first seen FOLLOW_UP_MIN_GAP or more
    before `first_seen_at`; a copy may match any candidate. Ties go to the
    earliest candidate. Datetimes must be all aware (or all naive). A
    CandidateIndex gives the same match as the list of its candidates, faster.
    """
    copy: tuple[float, Candidate] | None = None
    follow: tuple[float, Candidate] | None = None
    latest = first_seen_at - FOLLOW_UP_MIN_GAP
    # what depends on the article alone, once rather than once per candidate
    sketch, shares = fp.shingles, _shares(fp.entities)
    if isinstance(candidates, CandidateIndex):  # the same result, from fewer candidates
        return _match_indexed(fp, latest, candidates)
    for cand in candidates:
        other = cand.fingerprint
        # A copy shares some of its smallest shingle hashes; disjoint sketches
        # (most candidates) cost one set test.
        if sketch and not sketch.isdisjoint(other.shingles):
            score = _overlap(fp, other)
            if score >= NEAR_DUPLICATE_THRESHOLD and _better(score, cand, copy):
                copy = (score, cand)
                if score >= _SURE_COPY:  # as good as identical: no better match to find
                    break
        if copy is None and shares and cand.first_seen_at <= latest:
            score = _follow_up(shares, fp.simhash, other)
            if score >= FOLLOW_UP_THRESHOLD and _better(score, cand, follow):
                follow = (score, cand)
    for relation, best in (("copy", copy), ("follow_up", follow)):
        if best is not None:
            score, cand = best
            logger.debug("%s of %s (score %.3f)", relation, cand.article_id, score)
            return StoryMatch(cand.story_id, relation, cand.article_id, score)
    return StoryMatch(None, "new", None, 0.0)


def _match_indexed(fp: Fingerprint, latest: datetime, index: CandidateIndex,
                   before: int | None = None, query: np.ndarray | None = None) -> StoryMatch:
    """match_story's loop in two passes: copies among candidates sharing a hash
    (the others fail its set test), then, only without a copy, follow-ups."""
    best: tuple[float, Candidate] | None = None
    relation = "copy"
    for cand in index.likely_copies(fp, before, query):
        score = _overlap(fp, cand.fingerprint)
        if score >= NEAR_DUPLICATE_THRESHOLD and _better(score, cand, best):
            best = (score, cand)
            if score >= _SURE_COPY:
                break
    shares = _shares(fp.entities)
    if best is None and shares:
        relation = "follow_up"
        for cand in index.best_follow_ups(fp, shares, latest, before):
            score = _follow_up(shares, fp.simhash, cand.fingerprint)
            if score >= FOLLOW_UP_THRESHOLD and _better(score, cand, best):
                best = (score, cand)
    if best is None:
        return StoryMatch(None, "new", None, 0.0)
    score, cand = best
    logger.debug("%s of %s (score %.3f)", relation, cand.article_id, score)
    return StoryMatch(cand.story_id, relation, cand.article_id, score)


def fingerprint_to_row(
    fp: Fingerprint, sketch: bool = True
) -> tuple[int, list[int] | None, list[str], list[int]]:
    """(simhash, sketch, entity ids, counts) for BIGINT, BIGINT[], VARCHAR[], INTEGER[] columns
    (sketch None when not asked for).

    The unsigned simhash is stored as the signed BIGINT with the same 64 bits;
    sketch hashes are 63-bit and fit as they are.
    """
    simhash = fp.simhash - (1 << 64) if fp.simhash >> 63 else fp.simhash
    return (
        simhash,
        list(fp.ordered) if sketch else None,
        [entity for entity, _ in fp.entities],
        [count for _, count in fp.entities],
    )


def fingerprint_from_row(
    simhash: int,
    shingles: Sequence[int] | None,
    entity_ids: Sequence[str] | None,
    counts: Sequence[int] | None,
) -> Fingerprint:
    """The inverse of `fingerprint_to_row` (a NULL list reads as empty)."""
    entities = zip(entity_ids or (), counts or (), strict=True)
    return Fingerprint(simhash & _MASK64, frozenset(shingles or ()), tuple(sorted(entities)))


# --- text -------------------------------------------------------------------------------


class _Memo(dict):
    """A bounded memo of a per-word function: a dict lookup costs less than an lru_cache call."""

    def __init__(self, func: Callable, size: int):
        super().__init__()
        self.func, self.size = func, size

    def __missing__(self, key):
        if len(self) >= self.size:
            self.clear()  # a story's vocabulary is stable: refilling beats LRU bookkeeping
        value = self[key] = self.func(key)
        return value


def _spell(word: str) -> str:
    if word in _SPELLING_WORDS:
        return _SPELLING_WORDS[word]
    if len(word) < 5 or not word.isascii():
        return word
    for pattern, replacement in _SPELLING:
        word = pattern.sub(replacement, word)
    return word


def _positions(word: str) -> tuple[int, ...]:
    """One random 63-bit value for each position the word can take in a shingle."""
    digest = blake2b(word.encode(), digest_size=8 * SHINGLE_WORDS).digest()
    return tuple(
        int.from_bytes(digest[8 * j : 8 * j + 8], "big") & _MASK63 for j in range(SHINGLE_WORDS)
    )


_spelling = _Memo(_spell, 1 << 16)
_tabulation = _Memo(_positions, 1 << 15)


def _words(text: str) -> list[str]:
    """Casefolded words, British spellings made American."""
    spelling = _spelling
    return [spelling[w] for w in _WORD.findall(unicodedata.normalize("NFKC", text).casefold())]


def _sketch(words: list[str]) -> frozenset[int]:
    """Bottom-k sketch of the word shingles (one shingle of all words for a shorter text)."""
    n = min(SHINGLE_WORDS, len(words))
    if not n:
        return frozenset()
    # Simple tabulation hashing: a shingle's hash is the XOR of its words' values
    # for their positions. Min-wise sampling works well with it (Patrascu & Thorup
    # 2012), and column by column it costs four C-level XORs a word.
    columns = list(zip(*(_tabulation[w] for w in words), strict=True))
    count = len(words) - n + 1
    hashes = columns[0][:count]
    for j in range(1, n):
        hashes = map(xor, hashes, columns[j][j : j + count])
    return frozenset(sorted(set(hashes))[:SKETCH_SIZE])


# A token's 64 hash bits spread into 64 counters of 32 bits in one int: summing
# these ints adds all 64 counters at once, where trafilatura adds 64-item lists.
_FIELD = 32
_FIELD_MASK = (1 << _FIELD) - 1
_BYTE_SPREAD = [
    [sum(1 << (_FIELD * (8 * k + i)) for i in range(8) if byte >> i & 1) for byte in range(256)]
    for k in range(8)
]


def _spread_bits(token: str) -> int:
    h = int.from_bytes(blake2b(token.encode(), digest_size=8).digest(), "big")  # as trafilatura
    return sum(_BYTE_SPREAD[k][h >> (8 * k) & 0xFF] for k in range(8))


_spread = _Memo(_spread_bits, 1 << 15)


def _simhash(words: list[str]) -> int:
    """trafilatura's `Simhash(" ".join(words)).hash`, computed about four times faster."""
    tokens = sample_tokens(" ".join(words), SIMHASH_BITS)
    spread = _spread
    ones = sum(count * spread[token] for token, count in Counter(tokens).items())
    # trafilatura sets bit i where the token hashes have at least as many 1s as 0s
    return sum(
        1 << i
        for i in range(SIMHASH_BITS)
        if 2 * (ones >> (_FIELD * i) & _FIELD_MASK) >= len(tokens)
    )


# --- scores -----------------------------------------------------------------------------


def _overlap(fa: Fingerprint, fb: Fingerprint) -> float:
    """Mean of the Jaccard resemblance and the larger containment, from two sketches.

    Below the smaller of the two sketches' limits, each sketch holds every hash of
    its set, and those hashes are a uniform sample of the shingles (Broder 1997):
    count the shared ones there.
    """
    limit = min(fa.limit, fb.limit)
    shared = sum(map(limit.__ge__, fa.shingles & fb.shingles))  # sum(map()) counts at C speed
    if not shared:
        return 0.0
    below_a = bisect_right(fa.ordered, limit)
    below_b = bisect_right(fb.ordered, limit)
    resemblance = shared / (below_a + below_b - shared)
    containment = shared / min(below_a, below_b)
    return (resemblance + containment) / 2


def _sketch_limit(sketch: frozenset[int]) -> int:
    """Up to where a sketch holds every hash of its set (all of it for a short text)."""
    return max(sketch) if len(sketch) >= SKETCH_SIZE else _MASK63


def _follow_up(shares: dict[str, float], simhash: int, other: Fingerprint) -> float:
    entities = _weighted_jaccard(shares, other.entities)
    if not entities:
        return 0.0  # no shared entity, no follow-up, however alike the words
    return _ENTITY_WEIGHT * entities + (1 - _ENTITY_WEIGHT) * _topic(simhash, other.simhash)


def _shares(entities: tuple[tuple[str, int], ...]) -> dict[str, float]:
    total = sum(count for _, count in entities)
    return {entity: count / total for entity, count in entities} if total else {}


def _weighted_jaccard(shares: dict[str, float], entities: tuple[tuple[str, int], ...]) -> float:
    """Weighted Jaccard of two articles' shares of mentions per entity."""
    total = sum(count for _, count in entities)
    if not shares or not total:
        return 0.0
    low = sum(min(shares.get(entity, 0.0), count / total) for entity, count in entities)
    # with shares summing to 1 on each side, sum(max) = 2 - sum(min)
    return low / (2 - low)


def _topic(a: int, b: int) -> float:
    """Simhash similarity (as trafilatura's Simhash.similarity), rescaled: unrelated
    texts agree on about half of the bits."""
    similarity = 1 - (a ^ b).bit_count() / SIMHASH_BITS
    return max(0.0, 2 * similarity - 1)


def _better(score: float, cand: Candidate, best: tuple[float, Candidate] | None) -> bool:
    if best is None or score > best[0]:
        return True
    return score == best[0] and cand.first_seen_at < best[1].first_seen_at
