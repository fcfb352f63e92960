"""The hand-counted gold standard of the five seed articles, and how to score against it.

Counts are compared per (document, entity) cell: TP = min(predicted, gold),
FP = predicted - TP, FN = gold - TP, micro-averaged over all cells.
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Iterable, Mapping

ROOT = pathlib.Path(__file__).resolve().parent.parent
GOLD_PATH = ROOT / "tests" / "data" / "gold_seeds.json"
SEEDS = ROOT / "seeds"
ARTICLE_REGIONS = ("title", "dek", "body")

Cell = tuple[str, str]  # (seed file name, entity id)


def load_gold() -> dict:
    """The gold JSON as a dict (`docs`, `entities`, `guidelines`, ...)."""
    return json.loads(GOLD_PATH.read_text(encoding="utf-8"))


def gold_counts(gold: dict, field: str = "n") -> dict[Cell, int]:
    """Gold counts per cell; field is n, n_full_file, demonym_or_metonym, ..."""
    return {
        (doc, entity): counts[field]
        for doc, info in gold["docs"].items()
        for entity, counts in info["counts"].items()
    }


def seed_text(doc: str) -> str:
    """The seed file, byte for byte, as the gold offsets index it."""
    return (SEEDS / doc).read_bytes().decode("utf-8")


def article_text(gold: dict, doc: str, regions: Iterable[str] = ARTICLE_REGIONS) -> str:
    """The text of the doc's title, dek and body regions, in order, joined by newlines."""
    text = seed_text(doc)
    wanted = set(regions)
    return "\n".join(
        text[r["start"] : r["end"]] for r in gold["docs"][doc]["regions"] if r["region"] in wanted
    )


def score(
    predicted: Mapping[Cell, int], gold: Mapping[Cell, int]
) -> tuple[float, float, float, list[str]]:
    """Micro precision, recall, F1 over all cells, and one line per cell that differs."""
    tp = fp = fn = 0
    misses = []
    for cell in sorted(set(predicted) | set(gold)):
        pred, want = predicted.get(cell, 0), gold.get(cell, 0)
        hit = min(pred, want)
        tp, fp, fn = tp + hit, fp + pred - hit, fn + want - hit
        if pred != want:
            misses.append(f"{cell[0]} {cell[1]}: predicted {pred}, gold {want}")
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, misses
