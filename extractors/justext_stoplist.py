"""One copy of jusText's stop words in an extraction worker, not two.

For a page whose language it was not told, trafilatura's jusText fallback
classifies paragraphs against the union of jusText's 100 stop lists (154,484
words). trafilatura keeps the union as a tuple of strings, and jusText's
`define_stoplist` (an lru_cache keyed by that tuple) lower-cases it into a
frozenset of new strings: two copies, 27 MB in every worker. Here the union
is built once, lower-cased exactly as `define_stoplist` would, and handed to
both: the same words, one copy (15 MB). Nothing else changes: any other stop
list still goes through jusText's own function.
"""

from __future__ import annotations

import justext.core
import trafilatura.external
from justext.utils import get_stoplist, get_stoplists

_define_stoplist = justext.core.define_stoplist


def _union_stoplist() -> frozenset[str]:
    """trafilatura's `jt_stoplist_init`, built as `define_stoplist` would return it:
    every jusText stop word, lower-cased, in a frozenset (made on first use)."""
    union = frozenset(word.lower() for language in get_stoplists()
                      for word in get_stoplist(language))
    trafilatura.external.JT_STOPLIST = union
    return union


def _define_stoplist_once(stoplist):  # jusText's signature: a collection of words
    if stoplist is trafilatura.external.JT_STOPLIST and isinstance(stoplist, frozenset):
        return stoplist  # the union above: already what define_stoplist makes of it
    return _define_stoplist(stoplist)


def share_union_stoplist() -> None:
    """Have trafilatura's jusText fallback keep the union once (idempotent)."""
    trafilatura.external.jt_stoplist_init = _union_stoplist
    justext.core.define_stoplist = _define_stoplist_once
