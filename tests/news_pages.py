"""Pages shaped like the ones newswatch meets on real news sites, built for tests.

Each is what a real site serves, trimmed: a header menu, the article or the
listing, a "most read" block of headlines, a footer. `PAGES` names each with
its path on the test server, and whether it is an article (None) or the
reason it is not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape

MENU = ["World", "Politics", "Business", "Opinion", "Sport", "Culture", "Video", "Podcasts"]
MOST_READ = [
    "Kazakhstan's president dismisses the government as protests spread",
    "Fuel prices: what the liquefied gas cap means for western regions",
    "Almaty airport reopens after a week of closures",
    "Central Asian markets steady as the tenge recovers",
    "How the internet blackout hit small businesses in Almaty",
    "Football: Kairat sign a new goalkeeper before the season",
    "Weather: a cold snap is expected across the north this weekend",
    "Opinion: the Eurasian Economic Union at a crossroads",
    "Russian rouble slides as sanctions talk grows louder",
    "Uzbekistan opens a new rail link to the Afghan border",
    "The five films to watch at this year's Almaty festival",
    "Kyrgyz parliament approves the new cabinet after a long debate",
    "Migrant workers send record remittances home in December",
    "Tajik authorities report a strong earthquake near Dushanbe",
    "Oil output in Tengiz resumes after the strike ends",
]
BODY = [
    "Troops of the Collective Security Treaty Organization began leaving Kazakhstan on "
    "Thursday, a week after they arrived at the request of President Kassym-Jomart Tokayev, "
    "the alliance's secretary general said in a statement.",
    "The first planes carrying Russian paratroopers took off from Almaty in the morning, and "
    "the defence ministry in Moscow said the withdrawal would be complete within ten days. "
    "Armenian, Belarusian, Tajik and Kyrgyz units are to follow.",
    "Tokayev told parliament on Tuesday that the mission had fulfilled its task. Critics in "
    "the region said the speed of the deployment had set a precedent for the alliance, which "
    "had never before sent a peacekeeping force into one of its own members.",
    "Residents of Almaty said the city was calm but that the internet remained slow, and "
    "that many shops looted during the unrest were still closed. Officials put the number "
    "of people detained across the country at almost ten thousand.",
]
# a wire brief as real ones run: two short paragraphs, 420 characters
BRIEF = [
    "Kazakhstan's central bank kept its base rate at 10.25 percent on Monday, citing the "
    "fall in inflation after the January unrest and the tenge's recovery against the dollar.",
    "The bank said it would review the rate again in March. Analysts polled by the agency "
    "had expected no change; two of them had forecast a cut of a quarter point. The tenge "
    "gained 0.4 percent against the dollar in Almaty trading after the announcement.",
]


@dataclass(frozen=True)
class Case:
    path: str
    html: str
    reason: str | None        # None: an article


def page(title: str, main: str, *, head: str = "", most_read: bool = True,
         h1: str | None = None) -> str:
    """A page of a news site: menu, `main`, a most-read block of headlines, footer."""
    menu = "".join(f'<li><a href="/{m.lower()}/">{m}</a></li>' for m in MENU)
    aside = "".join(f'<li><a href="/news/2022/01/{i + 10:02d}/story-{i}">{escape(t)}</a></li>'
                    for i, t in enumerate(MOST_READ)) if most_read else ""
    heading = f"<h1>{escape(h1)}</h1>" if h1 else ""
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{escape(title)}</title>{head}</head><body>"
            f"<header><nav><ul>{menu}</ul></nav></header>"
            f"<main>{heading}{main}</main>"
            f"<aside><h2>Most read</h2><ol>{aside}</ol></aside>"
            "<footer><p>&copy; 2022 The Steppe Courier. All rights reserved.</p>"
            '<a href="/about">About us</a> <a href="/contact">Contact</a></footer>'
            "</body></html>")


def article_body(paragraphs: list[str]) -> str:
    return "<article>" + "".join(f"<p>{escape(p)}</p>" for p in paragraphs) + "</article>"


def json_ld(**fields) -> str:
    return ('<script type="application/ld+json">'
            + json.dumps({"@context": "https://schema.org", **fields}) + "</script>")


def cases() -> list[Case]:
    headline = "CSTO troops begin to leave Kazakhstan"
    out = [
        # an article whose page holds 15 headline links and declares no type
        Case("/world/2022/01/13/csto-troops-begin-to-leave-kazakhstan",
             page(headline, article_body(BODY), h1=headline), None),
        # a short brief that declares itself a NewsArticle
        Case("/markets/2022/02/07/central-bank-holds-rate",
             page("Central bank holds rate", article_body(BRIEF), h1="Central bank holds rate",
                  head=json_ld(**{"@type": "NewsArticle", "headline": "Central bank holds rate",
                                  "datePublished": "2022-02-07T10:05:00+06:00"})), None),
        # the same kind of brief with no declared type, at an article's address
        Case("/business/kazakh-central-bank-keeps-base-rate-unchanged-88231",
             page("Kazakh central bank keeps base rate unchanged", article_body(BRIEF),
                  h1="Kazakh central bank keeps base rate unchanged"), None),
        # navigation only: two hundred links and no text
        Case("/links", "<html><body>" + " ".join(
            f'<a href="/l{i}">Link</a>' for i in range(200)) + "</body></html>",
             "not_article_navigation"),
        Case("/", page("The Steppe Courier: news from Central Asia", "".join(
            f'<div class="teaser"><h3><a href="/world/2022/01/{i + 1:02d}/s{i}">{escape(t)}</a>'
            f"</h3><p>{escape(t)}.</p></div>" for i, t in enumerate(MOST_READ * 2)),
            most_read=False, head='<meta property="og:type" content="website">'),
             "not_article_front_page"),
        Case("/tag/kazakhstan/", page("Kazakhstan | The Steppe Courier", "".join(
            f'<h3><a href="/world/2022/01/{i + 1:02d}/s{i}">{escape(t)}</a></h3>'
            f"<p>{escape(BODY[i % 4])}</p>" for i, t in enumerate(MOST_READ[:8]))),
             "not_article_listing"),
        Case("/search?q=csto", page("Search results for csto", "".join(
            f'<h3><a href="/world/2022/01/{i + 1:02d}/s{i}">{escape(t)}</a></h3>'
            f"<p>{escape(BODY[i % 4])}</p>" for i, t in enumerate(MOST_READ[:8]))),
             "not_article_search"),
        Case("/account/signin", page("Sign in", '<form action="/account/signin" method="post">'
                                     "<p>Sign in to your account to comment and save articles."
                                     '</p><input name="email"><input type="password" '
                                     'name="password"><button>Sign in</button></form>',
                                     most_read=False), "not_article_login"),
        # an error page served with status 200
        Case("/world/2022/01/13/a-story-that-was-taken-down",
             page("Page not found | The Steppe Courier",
                  "<p>Sorry, the page you were looking for could not be found. It may have "
                  "been moved or deleted. Try the search or go back to the front page.</p>",
                  h1="Page not found"), "not_article_error_page"),
        Case("/business/2022/01/20/tengiz-output-plan",
             page("Tengiz output plan", article_body([
                 BODY[0], "Subscribe to continue reading. Already a subscriber? Sign in."]),
                  h1="Tengiz output plan",
                  head=json_ld(**{"@type": "NewsArticle", "isAccessibleForFree": "False"})),
             "not_article_paywall"),
    ]
    return out
