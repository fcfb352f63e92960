"""The languages in which htmldate reads a date written out in words.

When its patterns find no date, htmldate asks dateparser ("6 января 2022",
"6. Januar 2022"), built for all of dateparser's 205 languages: it tries them
in turn and keeps each one's data once tried, about 27 MB in every extraction
worker. newswatch builds that parser for the languages its sources write in
(the `date_languages` setting), with htmldate's own settings. Over the real
pages of `make eval-pages` the default languages found the same dates as all
of them (602 of 695 labelled ones), and the 105 dates of 316 pages that
reached dateparser read the same.

    read_dates_in(["en", "ru", "kk"])   # an empty list: all of dateparser's
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

# Central Asia and its neighbours, then the languages of the most-read outlets
# elsewhere; Tajik and Turkmen are not among dateparser's languages
DEFAULT_DATE_LANGUAGES = (
    "en", "ru", "kk", "ky", "uz", "az", "hy", "ka", "be", "uk", "mn", "zh",
    "de", "fr", "es", "it", "pt", "pl", "tr", "ar", "fa", "he", "hi", "ja", "ko", "nl",
)


def read_dates_in(languages: Sequence[str]) -> None:
    """Have htmldate parse dates in these languages only (empty: all of dateparser's).
    The codes must be dateparser's (`unknown_date_languages` finds the others)."""
    import htmldate.extractors  # here: the settings import this module, not htmldate

    every_language = _every_language()  # htmldate's own, kept before the first swap
    htmldate.extractors.get_external_parser = (
        _parser_for(tuple(languages)) if languages else every_language)
    htmldate.extractors.try_date_expr.cache_clear()  # answers of the parser replaced


def unknown_date_languages(languages: Sequence[str]) -> list[str]:
    """The codes among `languages` that dateparser does not know."""
    from dateparser.data.languages_info import language_order

    known = set(language_order)
    return [code for code in languages if code not in known]


@lru_cache(maxsize=1)
def _every_language() -> Callable[[], object]:
    """htmldate's own parser (lru-cached, every language), kept before it is replaced."""
    import htmldate.extractors

    return htmldate.extractors.get_external_parser


@lru_cache(maxsize=4)
def _parser_for(languages: tuple[str, ...]) -> Callable[[], object]:
    """A stand-in for htmldate's `get_external_parser`: built on first use, as htmldate's
    own is, so that importing the extractors does not import dateparser."""

    @lru_cache(maxsize=1)
    def parser() -> object:
        from dateparser import DateDataParser

        # htmldate's settings, read off a parser it builds (no language is loaded yet)
        settings = _every_language().__wrapped__()._settings
        return DateDataParser(languages=list(languages), settings=settings)

    return parser
