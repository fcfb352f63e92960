"""Page judgement and metadata on labelled real pages: `make eval-pages`.

Two development sets, neither in this repository (the pages belong to their
sites); the labels are ours (docs/page-judgement.md says how they were made):

- `--pages DIR`: 315 real pages saved in public repositories' test data,
  labelled article / not article by hand (benchmarks/devsets/pages.tsv: id,
  label, kind, url, the repository and path each came from). DIR holds
  `<id>.html`. Prints precision and recall of "article", over the pages with
  a known address (as newswatch meets pages) and over all, and each page
  judged wrongly.
- `--trafilatura DIR`: a checkout of adbar/trafilatura; its tests/eval pages
  and tests/evaldata.json (titles, authors, dates, and snippets that must and
  must not be in the main text). Prints exact-match rates of title, author and
  date, and snippet precision and recall of the stored text against
  `trafilatura.extract` alone.

    make eval-pages PAGES=path/to/pages TRAFILATURA=path/to/trafilatura
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import unicodedata
from collections import Counter
from pathlib import Path

from newswatch.extractors.article import extract_article
from newswatch.extractors.charset import decode_html

LABELS = Path(__file__).resolve().parent / "devsets" / "pages.tsv"


def judge(pages: Path) -> None:
    rows = [r for r in csv.DictReader(LABELS.open(encoding="utf-8"), delimiter="\t")
            if "unsure" not in r["note"]]
    with_url, every = Counter(), Counter()
    kinds: Counter = Counter()
    for r in rows:
        html, _ = decode_html((pages / f"{r['id']}.html").read_bytes())
        extraction = extract_article(html, r["url"] or None)
        got, want = extraction.article is not None, r["label"] == "article"
        every[got, want] += 1
        if r["url"]:
            with_url[got, want] += 1
        kinds[r["label"], r["kind"], got == want] += 1
        if got != want:
            said = extraction.reason if not got else extraction.article.text[:70]
            print(f"{'lost' if want else 'taken'}\t{r['kind']}\t{r['id']}\t{said!r}")
    for name, c in (("pages with a known address", with_url), ("all pages", every)):
        tp, fp, fn = c[True, True], c[True, False], c[False, True]
        print(f"{name} ({sum(c.values())}): precision {tp / max(tp + fp, 1):.3f}"
              f" recall {tp / max(tp + fn, 1):.3f} (articles taken {tp}, pages wrongly"
              f" taken {fp}, articles lost {fn})")
    for label, kind in sorted({(label, kind) for label, kind, _ in kinds}):
        right, wrong = kinds[label, kind, True], kinds[label, kind, False]
        print(f"  {label:12} {kind:14} {right:3} of {right + wrong:3} right")


def _norm(text: str | None) -> str:
    text = unicodedata.normalize("NFKC", text or "").replace("\xad", "")
    return " ".join(text.split()).casefold().strip(" .")


def metadata(checkout: Path) -> None:
    from trafilatura import extract

    tests = checkout / "tests"
    data = json.loads((tests / "evaldata.json").read_text(encoding="utf-8"))
    right: Counter = Counter()
    total: Counter = Counter()
    snippets = {name: Counter() for name in ("newswatch", "trafilatura", "newswatch, pages it"
                                             " keeps", "trafilatura, pages newswatch keeps")}
    for url, item in data.items():
        path = tests / "eval" / item.get("file", "")
        if not item.get("file") or not path.is_file():
            continue
        html, _ = decode_html(path.read_bytes())
        url = url if url.startswith("http") else None
        article = extract_article(html, url).article
        texts = {"newswatch": _norm(article.text) if article else "",
                 "trafilatura": _norm(extract(html, url=url, include_comments=False,
                                              include_tables=True, deduplicate=False))}
        if article is not None:
            texts["newswatch, pages it keeps"] = texts["newswatch"]
            texts["trafilatura, pages newswatch keeps"] = texts["trafilatura"]
        for name, text in texts.items():
            for s in item["with"]:
                snippets[name]["tp" if _norm(s) in text else "fn"] += 1
            for s in item["without"]:
                snippets[name]["fp" if _norm(s) in text else "tn"] += 1
        meta = article or extract_article(html, url, min_chars=0).article
        if meta is None:
            continue
        author = item.get("author")
        author = "; ".join(author) if isinstance(author, list) else author
        found = {"title": meta.title, "author": meta.author,
                 "date": meta.published_at.date().isoformat() if meta.published_at else None}
        for key, gold in (("title", item.get("title")), ("author", author),
                          ("date", item.get("date"))):
            if key in item and (gold or key == "author"):
                total[key] += 1
                right[key] += _norm(found[key]) == _norm(gold)
    for key in ("title", "author", "date"):
        print(f"{key}: {right[key]} of {total[key]} exact, {right[key] / total[key]:.3f}")
    for name, c in snippets.items():
        p = c["tp"] / (c["tp"] + c["fp"])
        r = c["tp"] / (c["tp"] + c["fn"])
        print(f"{name}: snippet precision {p:.3f} recall {r:.3f} F1 {2 * p * r / (p + r):.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, help="folder of the labelled pages (<id>.html)")
    parser.add_argument("--trafilatura", type=Path, help="a checkout of adbar/trafilatura")
    args = parser.parse_args(argv)
    if not args.pages and not args.trafilatura:
        parser.error("give --pages, --trafilatura or both")
    if args.pages:
        judge(args.pages)
    if args.trafilatura:
        metadata(args.trafilatura)
    return 0


if __name__ == "__main__":
    sys.exit(main())
