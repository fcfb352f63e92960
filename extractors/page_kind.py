"""Is this page an article? A verdict with its reason, from the page's own signals.

What decides, in order:

1. what the page is by its address or its words: a site's front page, a
   search, a login or sign-up form, a tag, section or forum listing, an error
   page served with status 200 ("404", "Page not found"), a paywall stub;
2. what the page declares itself (og:type, JSON-LD @type): an article type
   lets a short news brief through, a product, video, song or profile does not;
3. the main text trafilatura found: enough of it, in paragraphs, not a list
   of the page's own link labels (a menu), not teasers under many headlines
   (an index page).

Each rejection carries a short code (kept in `rejects.reason`) and a line that
says what was seen. Measured on a labelled set of real pages: README,
"What counts as an article", and docs/page-judgement.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from lxml.etree import XPath
from lxml.html import HtmlElement

__all__ = ["MIN_ARTICLE_CHARS", "MIN_BRIEF_CHARS", "Page", "page_signals", "verdict"]

# Body text (headline and standfirst not counted) below which a page that does
# not declare itself an article is not taken as one: teasers, photo and video
# pages and "more to follow" alerts are shorter. trafilatura's own floor for a
# usable extraction (MIN_EXTRACTED_SIZE) is half that.
MIN_ARTICLE_CHARS = 500
# A page that declares an article type, or whose address reads like an
# article's, needs only this much (at the default floor; two fifths of the
# configured one): real wire briefs run to 250-450 characters.
MIN_BRIEF_CHARS = 200
# A paywall stub shows less than this of its own text.
_STUB_CHARS = 1000

# A body whose characters lie mostly in lines that repeat the page's link
# texts is a list of links, not prose; a declared article must be nearly all links.
_LINK_LINES_SHARE = 0.5
_DECLARED_LINK_LINES_SHARE = 0.8
# A paragraph of prose has at least this many characters: two short sentences.
# Teasers under the headlines of an index page are shorter.
_PROSE_CHARS = 160
_MIN_PROSE_SHARE = 0.5
# Index pages link to many stories; article pages to a handful of related ones.
_HEADLINE_WORDS = 4
_MIN_HEADLINE_LINKS = 10
# A page whose visible text is mostly link text is navigation.
_NAV_LINK_SHARE = 0.6
# Main text whose words are nearly all words of the page's link labels is a list of
# links ("Link Link Link ...", a menu in paragraphs). Real articles measured: at most
# 0.83 (docs/page-judgement.md).
_LINK_WORDS_SHARE = 0.9
_DECLARED_LINK_WORDS_SHARE = 0.97
_WORD = re.compile(r"\w+")

_ARTICLE_TYPES = re.compile(r"article|posting|report|liveblog", re.IGNORECASE)
_OTHER_OG_TYPES = re.compile(r"^(?:product|video|music|profile|book|place|business|"
                             r"restaurant|game|books?\.)", re.IGNORECASE)
_OTHER_LD_TYPES = frozenset({"Product", "ProductGroup", "Offer", "MusicRecording",
                             "MusicAlbum", "MusicEvent", "ProfilePage", "SearchResultsPage",
                             "CollectionPage", "VideoGame", "Movie", "Recipe"})
_LD_TYPE = re.compile(r'"@type"\s*:\s*(?:\[\s*)?"([A-Za-z]+)"')
_LD_NOT_FREE = re.compile(r'"isAccessibleForFree"\s*:\s*"?(?:false|False|FALSE)\b')

# addresses: the path's segments that name a listing, a search or an account page
_LISTING = frozenset({"tag", "tags", "topic", "topics", "category", "categories", "section",
                      "sections", "rubric", "rubrik", "rubrique", "thema", "themen", "schlagwort",
                      "archive", "archives", "forum", "forums", "board", "browse", "author",
                      "authors", "autor", "page", "feed", "label", "labels", "series"})
_SEARCH = frozenset({"search", "suche", "recherche", "buscar", "busca", "ricerca", "zoeken",
                     "szukaj", "poisk", "find", "results", "search.php", "search.html",
                     "search.aspx", "search.jsp"})
_ACCOUNT = re.compile(r"^(?:log-?in|sign-?in|sign-?up|register|registration|auth|account|"
                      r"accounts|my-?account|password|forgot|connexion|anmelden|login\.\w+|"
                      r"signin\.\w+|register\.\w+|auth\.\w+|ucp\.php)$", re.IGNORECASE)
_SEARCH_KEYS = frozenset({"q", "query", "search", "s", "keyword", "keywords", "text", "wd",
                          "searchterm", "search_query"})
_SHOP = frozenset({"dp", "gp", "product", "products", "produkt", "produkte", "produit",
                   "produits", "shop", "store", "cart", "checkout"})
# posts on social networks and video sites are not articles, whatever their length
_SOCIAL_HOSTS = frozenset({"twitter.com", "x.com", "facebook.com", "instagram.com",
                           "tiktok.com", "youtube.com", "youtu.be", "t.me", "vk.com",
                           "reddit.com", "linkedin.com", "pinterest.com", "threads.net"})
_ERROR_ADDRESSES = frozenset({"404.html", "404.php", "404.aspx", "error", "error.html",
                              "not-found", "notfound", "page-not-found", "pagenotfound"})
_INDEX_FILE = re.compile(r"^(?:index|default|home|main)\.\w+$", re.IGNORECASE)
_LANG_ROOT = re.compile(r"^[a-z]{2}(?:[-_][a-zA-Z]{2})?$")
_ARTICLE_PATH = re.compile(
    r"\d{5,}|/(?:19|20)\d\d[/-]\d\d?[/-]|"           # an id or a date
    r"[^/\d\W_]+(?:[-_][^/\W_]+){3,}", re.UNICODE)     # a slug of four or more words

# what an error page's title or heading says, the whole of one of its segments
# ("Page not found | Site"): a headline that merely holds the words does not match
_ERROR_SEGMENT = re.compile(
    r"(?:(?:http )?error\s*)?(?:400|401|403|404|410|500|503)(?:\s*(?:error|errors|fehler))?|"
    r"(?:error )?(?:40[134] )?(?:page |file )?not found|forbidden|access denied|"
    r"(?:http )?error|request unsuccessful|this video is unavailable|"
    r"seite nicht gefunden|fehler 404|page introuvable|erreur 404|página no encontrada|"
    r"pagina non trovata|błąd 404|nie znaleziono strony|страница не найдена|ошибка 404",
    re.IGNORECASE,
)
_TITLE_SEGMENTS = re.compile(r"\s+[-–—|:·•]\s+|\s*\|\s*|[.!]\s+")
_PAYWALL = re.compile(
    r"subscriber agreement|subscribe (?:now )?to (?:read|continue)|to continue reading|"
    r"already a subscriber|sign in to (?:read|continue)|for subscribers only|"
    r"subscribers only|this copy is for your personal, non-commercial use|"
    r"jetzt abonnieren|weiterlesen mit|réservé aux abonnés|exclusivo para suscriptores|"
    r"только для подписчиков",
    re.IGNORECASE,
)

# a breaking alert whose story comes back later at full length
_ALERT = re.compile(r"more to follow|details to follow|updates to follow|this (?:story|is a) "
                    r"(?:is )?(?:developing|breaking)|will be updated|refresh for updates",
                    re.IGNORECASE)

_VISIBLE_TEXT = XPath(
    "//body//text()[not(ancestor::script or ancestor::style"
    " or ancestor::noscript or ancestor::template)]"
)
_LINKS = XPath("//body//a")
_PASSWORD = XPath("//input[@type='password']")
_JSON_LD = XPath("//script[@type='application/ld+json']/text()")
_TITLES = XPath("//head/title | //h1")
_SPACE = re.compile(r"\s+")


@dataclass(slots=True)
class Page:
    """What the parsed page shows and says of itself besides its main text."""

    text: str
    link_chars: int
    link_texts: set[str]
    link_words: set[str]
    headline_links: int
    password: bool
    declared: str        # og:type and JSON-LD types, space-separated
    not_free: bool       # JSON-LD says the page is not free to read
    titles: list[str]    # the <title> and <h1> texts


def page_signals(tree: HtmlElement, pagetype: str | None) -> Page:
    """Read the signals of a parsed page (`pagetype`: trafilatura's og:type)."""
    text = " ".join(" ".join(_VISIBLE_TEXT(tree)).split())
    link_texts: set[str] = set()
    link_chars = headline_links = 0
    for link in _LINKS(tree):
        label = " ".join(link.text_content().split())
        link_chars += len(label)
        if label:
            link_texts.add(norm(label))
            headline_links += len(label.split()) >= _HEADLINE_WORDS
    json_ld = " ".join(_JSON_LD(tree))
    types = set(_LD_TYPE.findall(json_ld))
    declared = " ".join([pagetype or "", *sorted(types)]).strip()
    link_words = {w for label in link_texts for w in _WORD.findall(label)}
    return Page(text, link_chars, link_texts, link_words, headline_links, bool(_PASSWORD(tree)),
                declared, bool(_LD_NOT_FREE.search(json_ld)),
                [" ".join(t.text_content().split())[:300] for t in _TITLES(tree)[:5]])


def verdict(body: list[str], page: Page, url: str | None,
            min_chars: int = MIN_ARTICLE_CHARS) -> tuple[str, str] | None:
    """(reason, detail) when the page is not an article, else None."""
    chars = sum(len(line) for line in body)
    declared = _declared(page.declared)
    if by_address := _by_address(url, declared):
        return by_address
    if chars < 5 * min_chars and (said := _error_title(page.titles)):
        return "not_article_error_page", f"the page says {said[:80]!r}"
    if (page.password and declared != "article" and chars < min_chars
            and not _article_address(url)):
        return "not_article_login", "a password form and little text besides"
    if declared == "other":
        return "not_article_type", f"the page declares itself {page.declared[:60]!r}"
    if chars < _STUB_CHARS and (page.not_free and declared == "article"
                                or any(_PAYWALL.search(line) for line in body)):
        prose = sum(len(line) for line in body if not _PAYWALL.search(line))
        if prose < min_chars:
            return "not_article_paywall", f"{prose} characters before a subscription notice"
    if not body:
        if not page.text:
            return "extraction_failed", "the page shows no text"
        if page.link_chars >= _NAV_LINK_SHARE * len(page.text):
            return "not_article_navigation", "no main text, and the page's text is mostly links"
        if len(page.text) < min_chars:
            return "not_article_too_short", f"the page shows {len(page.text)} characters of text"
        return "extraction_failed", "no main text found"
    words = _WORD.findall(" ".join(body).casefold())
    word_share = sum(map(page.link_words.__contains__, words)) / max(len(words), 1)
    if word_share >= (_DECLARED_LINK_WORDS_SHARE if declared == "article"
                      else _LINK_WORDS_SHARE):
        return "not_article_navigation", (
            f"{word_share:.0%} of the main text's words are the page's link labels")
    link_share = sum(len(x) for x in body if norm(x) in page.link_texts) / chars
    prose_share = sum(len(x) for x in body if len(x) >= _PROSE_CHARS) / chars
    looks_like_article = declared == "article" or _article_address(url)
    if declared == "article":
        if link_share >= _DECLARED_LINK_LINES_SHARE:
            return "not_article_navigation", (
                f"{link_share:.0%} of the main text repeats link labels (a menu)")
    else:
        if link_share >= _LINK_LINES_SHARE and page.headline_links < _MIN_HEADLINE_LINKS:
            return "not_article_navigation", (
                f"{link_share:.0%} of the main text repeats link labels (a menu)")
        if link_share >= _LINK_LINES_SHARE or (
                prose_share < _MIN_PROSE_SHARE and page.headline_links >= _MIN_HEADLINE_LINKS
                and not (looks_like_article
                         and chars >= min_chars * MIN_BRIEF_CHARS // MIN_ARTICLE_CHARS)):
            return "not_article_index_page", (
                f"page type {page.declared[:40] or 'unset'}, {page.headline_links} headline"
                f" links, {link_share:.0%} of the main text in links, {prose_share:.0%} in"
                " paragraphs")
    if chars < min_chars and _ALERT.search(" ".join(body[-2:])):
        return "not_article_too_short", f"a {chars}-character alert that says more will follow"
    # the brief's floor moves with min_article_chars: 200 of the default 500
    floor = min_chars * MIN_BRIEF_CHARS // MIN_ARTICLE_CHARS if looks_like_article else min_chars
    if chars < floor:
        return "not_article_too_short", f"{chars} characters of main text, fewer than {floor}"
    return None


def _error_title(titles: list[str]) -> str | None:
    """The title or heading that says the page is an error, if one does."""
    for title in titles:
        if any(_ERROR_SEGMENT.fullmatch(part.strip(" .!")) for part in
               _TITLE_SEGMENTS.split(title)):
            return title
    return None


def _declared(declared: str) -> str | None:
    """"article" when the page declares an article type, "other" when it declares a type
    that is not one (a product, a video, a song, a profile), else None."""
    if not declared:
        return None
    words = declared.split()
    if _ARTICLE_TYPES.search(words[0]) or any(
            _ARTICLE_TYPES.search(w) and w[0].isupper() for w in words[1:]):
        return "article"
    if _OTHER_OG_TYPES.match(words[0]) or any(w in _OTHER_LD_TYPES for w in words[1:]):
        return "other"
    return None


def _by_address(url: str | None, declared: str | None) -> tuple[str, str] | None:
    """A verdict from the URL alone: front pages, searches, account and listing pages."""
    if not url:
        return None
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    keys = {k.lower() for k, _ in parse_qsl(parts.query, keep_blank_values=True)}
    lowered = [s.lower() for s in segments]
    if not segments or (len(segments) == 1 and (_INDEX_FILE.match(segments[0])
                                                 or _LANG_ROOT.match(segments[0]))):
        if not keys & {"id", "p", "article", "story", "aid", "newsid", "nid"}:
            return "not_article_front_page", f"{parts.path or '/'} is the site's front page"
    # "/404", "/error/404", "/not-found"; not "/news/404", an article's number
    if lowered and (lowered[-1] in _ERROR_ADDRESSES or lowered == ["404"]
                    or (len(lowered) >= 2 and lowered[-2] in {"error", "errors"})):
        return "not_article_error_page", f"the address ends in {segments[-1]!r}"
    if any(s in _SEARCH for s in lowered) or (keys & _SEARCH_KEYS and declared != "article"
                                               and not _ARTICLE_PATH.search(parts.path)):
        return "not_article_search", f"{url[:80]} is a search"
    host = (parts.hostname or "").removeprefix("www.").removeprefix("m.")
    if host in _SOCIAL_HOSTS:
        return "not_article_social", f"{host} hosts posts, not articles"
    if any(s in _SHOP for s in lowered[:-1]) or host.startswith("shop."):
        return "not_article_product", f"{parts.path[:60]} is a shop's page"
    if any(_ACCOUNT.match(s) for s in lowered) and declared != "article":
        return "not_article_login", f"{parts.path[:60]} is an account page"
    if declared != "article" and lowered and (
            lowered[-1] in _LISTING or (len(lowered) >= 2 and lowered[-2] in _LISTING
                                        and not _ARTICLE_PATH.search("/" + lowered[-1]))):
        return "not_article_listing", f"{parts.path[:60]} is a listing"
    return None


def _article_address(url: str | None) -> bool:
    """Whether the URL's path reads like an article's: an id, a date or a long slug."""
    return bool(url) and bool(_ARTICLE_PATH.search(urlsplit(url).path))


def norm(text: str) -> str:
    """Text compared for equality: case, spacing and end punctuation ignored."""
    return _SPACE.sub(" ", text).strip().rstrip(".:!?…").casefold()
