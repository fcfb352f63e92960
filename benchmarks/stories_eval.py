"""How well stories are formed, on labelled real news: `make eval-stories`.

The development set is the news_cluster collection of Giveme5W1H (real articles
of many outlets, 2016-2018, with the dataset's event ids), relabelled by hand
for this project: a story is one event and its continuation; another
occurrence of the same kind of event (another missile launch, another
retirement) is another story; pages whose text is not the article are left
out. The labels are ours (benchmarks/devsets/giveme_news_cluster.tsv, one row
per article id); the texts are not in this repository:

    git clone https://github.com/fhamborg/Giveme5W1H   # or any copy of it
    make eval-stories GIVEME=Giveme5W1H/Giveme5W1H/examples/datasets/news_cluster/data_raw

Each article goes through the product's own code (terms, copy fingerprints,
StoryMatcher) in two ways: all at once, as `newswatch ingest urls` of a week
of pages, and a day at a time, as a daily poll. Reported: pairwise precision
and recall of "same story" (the figures the README quotes), the stories
formed, and the score margins around the threshold.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

LABELS = Path(__file__).resolve().parent / "devsets" / "giveme_news_cluster.tsv"


@dataclass(frozen=True)
class Labelled:
    article_id: str
    title: str
    text: str
    published_at: datetime | None
    label: str


def load_giveme(directory: Path, labels: Path = LABELS) -> list[Labelled]:
    """The labelled articles whose JSON files are in `directory` (excluded ones left out)."""
    wanted = {}
    with labels.open(encoding="utf-8") as rows:
        for row in csv.DictReader(rows, delimiter="\t"):
            if row["exclude"] != "1":
                wanted[row["dId"]] = row["label"]
    found = []
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue  # the collection holds a few empty files
        if data.get("dId") not in wanted:
            continue
        published = data.get("date_publish")
        found.append(Labelled(
            data["dId"], data.get("title") or "", data.get("text") or "",
            datetime.fromisoformat(published).replace(tzinfo=UTC) if published else None,
            wanted[data["dId"]]))
    return found


def pair_scores(labels: dict[str, str], stories: dict[str, str]) -> tuple[float, float, int, int]:
    """Pairwise precision and recall of "in one story": (precision, recall, false pairs,
    missed pairs)."""
    true_pairs = _pairs(labels)
    found_pairs = _pairs(stories)
    hits = len(true_pairs & found_pairs)
    precision = hits / len(found_pairs) if found_pairs else 1.0
    recall = hits / len(true_pairs) if true_pairs else 1.0
    return precision, recall, len(found_pairs - true_pairs), len(true_pairs - found_pairs)


def _pairs(groups: dict[str, str]) -> set[tuple[str, str]]:
    members: dict[str, list[str]] = defaultdict(list)
    for item, group in groups.items():
        members[group].append(item)
    return {(a, b) for items in members.values() for a in items for b in items if a < b}


def run(articles: list[Labelled], mode: str, now: datetime) -> dict[str, tuple]:
    """{article id: (story id, relation, score)} from matching `articles` all at once
    ("batch") or a publication day at a time ("daily", undated ones last)."""
    from newswatch.stories.copies import fingerprint
    from newswatch.stories.match import StoryArticle, StoryMatcher
    from newswatch.stories.novelty import read_lead
    from newswatch.stories.terms import article_terms

    def arrival(a: Labelled) -> StoryArticle:
        text = f"{a.title}\n\n{a.text}" if a.title else a.text
        return StoryArticle(a.article_id, now, a.published_at, article_terms(a.title, text),
                            fingerprint(text), lead=read_lead(text, a.title))

    matcher = StoryMatcher()
    if mode == "batch":
        batches = [articles]
    else:
        days: dict = defaultdict(list)
        for a in articles:
            days[a.published_at.date() if a.published_at else now.date()].append(a)
        batches = [days[d] for d in sorted(days)]
    found = {}
    for batch in batches:
        for d in matcher.match([arrival(a) for a in batch]):
            found[d.article_id] = (d.story_id, d.relation, d.score)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--giveme", type=Path, required=True,
                        help="the news_cluster/data_raw folder of a Giveme5W1H copy")
    parser.add_argument("--thresholds", type=float, nargs="*",
                        default=[0.14, 0.16, 0.18, 0.20, 0.22, 0.24, 0.26])
    args = parser.parse_args()
    import newswatch.stories.events as events
    import newswatch.stories.match as match

    articles = load_giveme(args.giveme)
    if not articles:
        sys.exit(f"no labelled articles in {args.giveme}")
    labels = {a.article_id: a.label for a in articles}
    sizes = defaultdict(int)
    for label in labels.values():
        sizes[label] += 1
    print(f"{len(articles)} articles, {len(sizes)} labelled stories"
          f" ({sum(1 for n in sizes.values() if n > 1)} with two articles or more,"
          f" {len(_pairs(labels))} same-story pairs)")
    now = max(a.published_at for a in articles if a.published_at)
    chosen = events.SAME_STORY
    for threshold in args.thresholds:
        events.SAME_STORY = match.SAME_STORY = threshold
        line = []
        for mode in ("batch", "daily"):
            found = run(articles, mode, now)
            precision, recall, false, missed = pair_scores(
                labels, {aid: story for aid, (story, _, _) in found.items()})
            line.append(f"{mode}: P {precision:.3f} R {recall:.3f} ({false} false,"
                        f" {missed} missed pairs, {len({s for s, _, _ in found.values()})}"
                        " stories)")
        mark = "  <- SAME_STORY" if abs(threshold - chosen) < 1e-9 else ""
        print(f"  threshold {threshold:.2f}  " + "   ".join(line) + mark, flush=True)
    events.SAME_STORY = match.SAME_STORY = chosen
    found = run(articles, "batch", now)
    joined = [(score, labels[aid] == labels[_first(found, story)])
              for aid, (story, relation, score) in found.items()
              if relation in ("same_event", "development")]
    right = sorted(s for s, ok in joined if ok)
    wrong = sorted(s for s, ok in joined if not ok)
    print(f"links at SAME_STORY {chosen}: {len(right)} right, {len(wrong)} wrong;"
          f" right scores: median {statistics.median(right):.3f}, lowest"
          f" {', '.join(f'{s:.3f}' for s in right[:3])};"
          f" wrong: {', '.join(f'{s:.3f}' for s in wrong) or 'none'}")


def _first(found: dict[str, tuple], story: str) -> str:
    """The article that began `story` (a story's id is its first article's)."""
    return story if story in found else next(a for a, (s, _, _) in found.items() if s == story)


if __name__ == "__main__":
    main()
