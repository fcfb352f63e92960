"""Copies: which earlier article a new one copies (syndication, wire, light edits).

Exact duplicates (same canonical URL, same content hash) are caught before
this module. Near-duplicates share most of their word 5-grams: a bottom-k
MinHash sketch of them (`Fingerprint`) is compared with those of the recent
articles, and a copy joins the story of what it copies.

    fp = fingerprint(article.text)
    index = CopyIndex(candidates)
    found = best_copy(fp, candidates)   # (score, Candidate) or None

A fingerprint is small and plain (`fingerprint_to_row`), so the warehouse
stores it with the article instead of re-reading old texts.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from hashlib import blake2b
from operator import xor

import numpy as np

__all__ = [
    "NEAR_DUPLICATE_THRESHOLD",
    "Candidate",
    "CopyIndex",
    "Fingerprint",
    "best_copy",
    "fingerprint",
    "fingerprint_from_row",
    "fingerprint_to_row",
    "near_duplicate_score",
]

logger = logging.getLogger(__name__)

SHINGLE_WORDS = 5
SKETCH_SIZE = 200

# The threshold is measured by tests/test_copies.py on pairs built from seeds/,
# tests/pages/ and tests/stories/ (pytest -s prints the margins).
# Copies score >= 0.69 (the lowest: a trimmed copy with boilerplate and its own
# headline), distinct articles <= 0.12 (the highest: two articles sharing one
# quoted paragraph): margins 0.19 and 0.38. The threshold sits nearer the copies
# because a missed copy only shows twice in the digest, a false one hides an article.
NEAR_DUPLICATE_THRESHOLD = 0.5
# A copy this close is as good as any: matching stops there, which keeps a
# burst of syndicated copies from costing a full comparison with each other.
_SURE_COPY = 0.95
# bulk (numpy, float64) and one-by-one copy scores differ by float rounding at most this
_ROUNDING = 1e-9
# Candidate objects an index keeps made for comparisons (besides its last batch's)
_KEEP_MADE = 4096
# sorted runs of sketch hashes an index keeps apart before merging them into one
_MAX_RUNS = 8
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
    """What copy detection keeps of an article's text: `shingles`, the SKETCH_SIZE
    smallest hashes of its word 5-grams (a bottom-k MinHash sketch)."""

    shingles: frozenset[int]
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
        # fingerprint an index keeps. Rebuilt here, it shares the set's.
        return (Fingerprint, (self.shingles,))


@dataclass(frozen=True, slots=True)
class Candidate:
    """An earlier article that a new one may copy."""

    article_id: str
    story_id: str
    first_seen_at: datetime
    fingerprint: Fingerprint


class CopyIndex:
    """Candidates, in the order added, indexed for `best_copy`; plain arrays inside.

    A copy shares a sketch hash: sorted arrays of the candidates' hashes (one
    per batch added, merged when there are many or the index is pruned) find
    those, and their scores are computed in bulk before the few close ones
    are scored one by one. A candidate becomes a `Candidate` object only then
    (or when asked for), so that thousands of them cost a few KB each, and
    reading them from the warehouse needs no Python object per hash.

    A batch is added at once (`extend`) and then matched in order
    (`best_added`): each of its articles against the candidates before it.
    """

    def __init__(self, candidates: Sequence[Candidate] = ()):
        self._ids: list[str] = []
        self._stories: list[str] = []
        self._when: list[datetime] = []
        # each candidate's sketch, sorted, in a row padded with _MASK63 (rows, not a
        # list of arrays: likely_copies counts hashes below a value in hundreds at once).
        # A row's last cell is its sketch's Fingerprint.limit: the largest hash of a
        # full sketch, the padding (_MASK63) of a shorter one.
        self._grid = np.full((64, SKETCH_SIZE), _MASK63, dtype=np.int64)
        self._length = np.zeros(64, dtype=np.int32)  # each sketch's length
        # every sketch hash, sorted, with the candidate of each: one run per batch
        # added (merging a batch into one sorted array copied every hash each time)
        self._runs: list[_Run] = []
        self._batch: dict[int, Candidate] = {}       # the last batch added, being matched
        self._made: dict[int, Candidate] = {}        # Candidate objects made lately
        # the hashes two or more candidates hold, sorted (few: copies share them)
        self._shared = np.zeros(0, dtype=np.int64)
        self.extend(candidates)

    # --- adding -------------------------------------------------------------------------

    def extend(self, cands: Sequence[Candidate]) -> int:
        """Add candidates in order; return the position of the first."""
        first = self.add_columns(
            [c.article_id for c in cands], [c.story_id for c in cands],
            [c.first_seen_at for c in cands],
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

    def add_columns(self, ids: Sequence[str], stories: Sequence[str],
                    when: Sequence[datetime], hashes: np.ndarray,
                    lengths: Sequence[int]) -> int:
        """`extend` from columns, as read from the warehouse: the sketches' hashes as one
        int64 array (each sketch sorted, one after another) and each sketch's length.

        (One array, not one per sketch: reading 5,000 candidates peaked at 2.5 times
        what their index then holds, with the hashes split up and joined again.)
        """
        first, n = len(self._ids), len(ids)
        self._ids += ids
        self._stories += stories
        self._when += when
        self._reserve(first + n)
        lengths = np.asarray(lengths, dtype=np.int64)
        ends = np.cumsum(lengths)
        self._length[first:first + n] = lengths
        for row, start, end in zip(range(first, first + n), (ends - lengths).tolist(),
                                   ends.tolist(), strict=True):
            self._grid[row, :end - start] = hashes[start:end]
        if n:
            order = np.argsort(hashes)  # equal hashes may come in any order
            rows = np.repeat(np.arange(first, first + n, dtype=np.int32), lengths)[order]
            self._add_run(_Run(hashes[order], rows))
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
        if size > len(self._length):
            grow = _room(size) - len(self._length)
            self._grid = np.vstack(
                [self._grid, np.full((grow, SKETCH_SIZE), _MASK63, dtype=np.int64)])
            self._length = np.concatenate([self._length, np.zeros(grow, np.int32)])

    def set_story(self, position: int, story_id: str) -> None:
        """The story the candidate at `position` joined (once its batch's match is known)."""
        self._stories[position] = story_id
        for made in (self._batch, self._made):
            cand = made.get(position)
            if cand is not None:
                made[position] = Candidate(
                    cand.article_id, story_id, cand.first_seen_at, cand.fingerprint)

    def pruned(self, keep: int) -> CopyIndex:
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
        index = CopyIndex()
        for name in ("_ids", "_stories", "_when"):
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
        size = _room(len(kept))
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
            fp = Fingerprint(frozenset(self.sketch(position).tolist()))
            made = self._made[position] = Candidate(
                self._ids[position], self._stories[position], self._when[position], fp)
        return made

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
        """The candidates (before position `before`) sharing a sketch hash with fp whose
        near-duplicate score, computed in bulk as `_overlap` computes it one by one,
        reaches the threshold. `query`: fp's sketch as a sorted array, when at hand.

        Common phrases put the same small hashes in many sketches: in a news stream
        an article shares one with dozens of others that it does not copy. With
        `before`, fp is the candidate at that position: its own hashes are in the
        index, so only those held twice or more are looked up.
        """
        if not self._runs or not fp.shingles:
            return []
        full = np.fromiter(fp.ordered, np.int64, len(fp.ordered)) if query is None else query
        query = full
        if before is not None:
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

    def best_added(self, position: int) -> tuple[float, Candidate] | None:
        """`best_copy` of the candidate at `position` among those added before it."""
        fp = self.candidate(position).fingerprint
        return _best(fp, self.likely_copies(fp, position, self.sketch(position)))


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
    pruning (a matcher prunes past 1.2 times its bound): growing copies every array."""
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


def fingerprint(text: str) -> Fingerprint:
    """The fingerprint of an article's text."""
    return Fingerprint(_sketch(_words(text)))


def near_duplicate_score(a: Fingerprint, b: Fingerprint) -> float:
    """How much wording two texts share, 0..1.

    The mean of the shingles' Jaccard resemblance and the containment of one
    text in the other: a trimmed copy, or one with boilerplate added, keeps a
    containment near 1 while its resemblance drops.
    """
    if not a.shingles or not b.shingles:
        return 0.0
    return _overlap(a, b)


def best_copy(fp: Fingerprint, candidates: Sequence[Candidate] | CopyIndex,
              ) -> tuple[float, Candidate] | None:
    """The candidate fp copies best (score >= NEAR_DUPLICATE_THRESHOLD), with its score;
    ties go to the earliest. A CopyIndex gives the same answer as the list of its
    candidates, faster."""
    if isinstance(candidates, CopyIndex):
        return _best(fp, candidates.likely_copies(fp))
    # disjoint sketches (most candidates) cost one set test
    return _best(fp, [c for c in candidates
                      if fp.shingles and not fp.shingles.isdisjoint(c.fingerprint.shingles)])


def _best(fp: Fingerprint, cands: Sequence[Candidate]) -> tuple[float, Candidate] | None:
    best: tuple[float, Candidate] | None = None
    for cand in cands:
        score = _overlap(fp, cand.fingerprint)
        if score >= NEAR_DUPLICATE_THRESHOLD and _better(score, cand, best):
            best = (score, cand)
            if score >= _SURE_COPY:  # as good as identical: no better copy to find
                break
    if best is not None:
        logger.debug("copy of %s (score %.3f)", best[1].article_id, best[0])
    return best


def fingerprint_to_row(fp: Fingerprint) -> list[int]:
    """The sketch, sorted, for a BIGINT[] column (63-bit hashes fit as they are)."""
    return list(fp.ordered)


def fingerprint_from_row(sketch: Sequence[int] | None) -> Fingerprint:
    """The inverse of `fingerprint_to_row` (a NULL list reads as empty)."""
    return Fingerprint(frozenset(sketch or ()))


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


def _better(score: float, cand: Candidate, best: tuple[float, Candidate] | None) -> bool:
    if best is None or score > best[0]:
        return True
    return score == best[0] and cand.first_seen_at < best[1].first_seen_at
