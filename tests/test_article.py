"""Article extraction on news pages kept under tests/pages/: metadata, clean text, verdicts.

Each article page is a realistic template (menus, cookie banner, related links,
comments, footer, scripts) around a body whose sentences are listed here as
gold: the text must hold them all and none of the page's boilerplate.
"""

from __future__ import annotations

import multiprocessing
import pickle
import random
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import lxml.html
import pytest
import trafilatura

from newswatch.extractors import article as article_module
from newswatch.extractors.article import MIN_ARTICLE_CHARS, Extraction, extract_article

PAGES = Path(__file__).parent / "pages"
ALMT = timezone(timedelta(hours=6))

# Per article page: the URL it was fetched from, the metadata expected, the
# sentences of the article (gold) and strings of its boilerplate.
ARTICLES = {
    "steppe_courier_deployment": {
        "url": "https://www.steppecourier.com/world/asia/2022/01/06/csto-troops-kazakhstan-unrest"
               "?utm_source=rss&utm_medium=feed",
        "canonical_url": "https://www.steppecourier.com/world/asia/2022/01/06/"
                         "csto-troops-kazakhstan-unrest",
        "title": "Russian-led bloc sends troops to Kazakhstan as unrest spreads",
        "outlet": "The Steppe Courier",
        "author": "Dana Kemelbekova",
        "published_at": datetime(2022, 1, 6, 9, 40, tzinfo=ALMT),
        "language": "en",
        "standfirst": "The first CSTO contingent landed near Almaty on Thursday after "
                      "President Tokayev appealed for help overnight.",
        "gold": [
            "Transport aircraft carrying Russian paratroopers began landing outside Almaty on "
            "Thursday morning, hours after Kazakhstan's president asked a Moscow-led military "
            "alliance to help him put down the worst unrest the country has seen since "
            "independence.",
            "The Collective Security Treaty Organization said its council had agreed to send what "
            "it described as a collective peacekeeping force for a limited period.",
            "Armenia's prime minister, Nikol Pashinyan, who holds the bloc's rotating chair, "
            "announced the decision in a late-night post on social media.",
            "President Kassym-Jomart Tokayev had told the nation in a televised address that the "
            "protesters were terrorist gangs trained abroad and that he had turned to the "
            "alliance because Kazakh forces alone could not hold the city.",
            "He gave no evidence for the claim of foreign training.",
            "The demonstrations began on 2 January in the oil town of Zhanaozen, where drivers "
            "rallied against a sudden doubling in the price of liquefied petroleum gas.",
            "Within three days they had reached Almaty, where crowds stormed the mayor's office "
            "and set parts of the building on fire.",
            "Soldiers from Belarus, Armenia, Tajikistan and Kyrgyzstan are expected to join the "
            "Russian units, although officials in Bishkek said their parliament would first have "
            "to approve the deployment.",
            "The alliance has never before sent troops into a member state under its mutual "
            "defence clause.",
            "Residents reached by phone described gunfire near Republic Square through the night "
            "and long queues at the few cash machines that still worked.",
            "Internet access across much of the country remained cut for a second day.",
            "Analysts said the request marked a sharp turn for a government that had spent three "
            "decades balancing its ties with Moscow, Beijing and the West.",
            "Any long stay by Russian forces, one diplomat in Nur-Sultan said, would change that "
            "balance for years to come.",
            "The Kremlin said the troops would guard state and military buildings and would not "
            "take part in operations against demonstrators.",
        ],
        "boilerplate": [
            "We use cookies to personalise content and ads",
            "Manage preferences",
            "Energy and commodities",
            "Subscribe for one dollar a week",
            "Kazakhstan government resigns after fuel price protests turn violent",
            "Why a gas price rise in Zhanaozen set a country alight",
            "Opinion: Tokayev's gamble could cost Kazakhstan its independence",
            "Uranium prices jump as traders fret over Kazakh supply",
            "Tennis star's visa cancelled on arrival in Melbourne",
            "Most read",
            "By Dana Kemelbekova in Almaty",
            "Thu 6 Jan 2022",
            "Share on Twitter",
            "Photograph: Defence Ministry handout",
            "Get the Asia briefing in your inbox every weekday morning.",
            "Topics:",
            "Once those soldiers arrive they will not be in a hurry to go home again",
            "The real story here is the fight inside the ruling family",
            "Cutting the internet for a whole country should be treated as a crime in itself.",
            "Join the discussion",
            "Contact the newsroom",
            "All rights reserved",
            "dataLayer",
            "Please disable your ad blocker",
            "Loading recommendations for this reader",
        ],
    },
    "caspian_monitor_summit": {
        "url": "https://www.caspianmonitor.net/news/2022/01/10/csto-summit-kazakhstan?fbclid=IwAR0xyz",
        "canonical_url": "https://www.caspianmonitor.net/news/2022/01/10/csto-summit-kazakhstan",
        "title": "CSTO leaders declare Kazakhstan mission a success at emergency summit",
        "outlet": "Caspian Monitor",
        "author": "Rustam Alimov",
        "published_at": datetime(2022, 1, 10, 18, 5, tzinfo=UTC),
        "language": "en",
        "standfirst": None,
        "gold": [
            "Leaders of the Collective Security Treaty Organization met by video link on Monday "
            "and agreed that the force sent to Kazakhstan last week had largely completed its "
            "task, setting the stage for a withdrawal within days.",
            "Opening the session, Kazakh President Kassym-Jomart Tokayev thanked the allies and "
            "told them that constitutional order had been restored across the country.",
            "He repeated his claim that the violence had been an attempted coup organised by a "
            "single centre, without naming who he believed was behind it.",
            "A precedent for the alliance",
            "Russian President Vladimir Putin, speaking second, said the alliance would not allow "
            "so-called colour revolutions to take hold in its member states.",
            "He described the mission as a timely and legitimate response to a request from a "
            "sovereign government.",
            "The deployment of about two thousand troops, the first collective operation in the "
            "bloc's thirty-year history, has been presented in Moscow as proof that the "
            "organisation can act quickly when a member is threatened.",
            "Critics in Kazakhstan have questioned whether the situation ever met the treaty's "
            "threshold of external aggression.",
            "Armenian Prime Minister Nikol Pashinyan, who chaired the meeting, used his remarks to "
            "note that his own country had received no comparable help when it asked the "
            "alliance for support during its border dispute with Azerbaijan in 2021.",
            "The mission was never meant to be open-ended, and the quicker it ends the better it "
            "will be remembered at home.",
            "Questions in Almaty",
            "On the streets of Almaty, where burnt-out cars were still being cleared from the "
            "central avenues, residents gave a mixed verdict.",
            "Some said the foreign soldiers had calmed the city, while others said they were "
            "uneasy that the government had needed outside help at all.",
            "Kazakh authorities said nearly eight thousand people had been detained since the "
            "unrest began.",
            "Rights groups have asked for an independent investigation into the deaths of "
            "protesters and bystanders during the clashes.",
        ],
        "boilerplate": [
            "This website uses cookies and similar technologies",
            "E-paper",
            "Photo galleries",
            "Events calendar",
            "4 min read",
            "Read also",
            "Former security chief Karim Massimov detained on treason charges",
            "Support independent reporting from Central Asia.",
            "Become a member today",
            "Rustam Alimov covers politics and security in Central Asia",
            "12 comments",
            "A success for whom exactly?",
            "Strange that the same alliance could not find any troops for Armenia a year ago.",
            "Latest news",
            "Tenge recovers some losses as banks reopen",
            "Internet partly restored in Almaty after five-day blackout",
            "Kyrgyz contingent guards power plant near the capital",
            "Uzbekistan tightens border checks amid neighbour's crisis",
            "Almaty airport to reopen after troops secure perimeter",
            "Editorial policy",
            "Reproduction of materials is permitted only with an active hyperlink",
            "googletag",
            "Central Asia news feed",
            "acceptCookies",
        ],
    },
    "stepnoy_vestnik_withdrawal_ru": {
        "url": "https://stepvestnik.kz/politika/2022/01/13/odkb-vyvod#comments",
        "canonical_url": "https://stepvestnik.kz/politika/2022/01/13/odkb-vyvod",
        "title": "Миротворцы ОДКБ начали вывод из Казахстана",
        "outlet": "Степной вестник",
        "author": "Ирина Ковальчук",
        "published_at": datetime(2022, 1, 13, 11, 30, tzinfo=ALMT),
        "language": "ru",
        "standfirst": "Первые самолеты с военными из России и Армении покинули Казахстан "
                      "в четверг утром.",
        "gold": [
            "Вывод коллективных миротворческих сил Организации Договора о коллективной "
            "безопасности из Казахстана начался в четверг, ровно через неделю после того, как "
            "первые подразделения прибыли в Алматы.",
            "Об этом сообщили в Министерстве обороны России.",
            "На аэродроме под Алматы прошла короткая церемония, на которой казахстанские военные "
            "поблагодарили союзников за помощь.",
            "Командующий контингентом генерал Андрей Сердюков заявил, что поставленные задачи "
            "выполнены полностью.",
            "Президент Касым-Жомарт Токаев еще во вторник объявил в мажилисе, что главная миссия "
            "ОДКБ успешно завершена и вывод войск займет не более десяти дней.",
            "По его словам, иностранные военные охраняли стратегические объекты и не участвовали "
            "в столкновениях с протестующими.",
            "Всего в Казахстан было направлено более двух тысяч военнослужащих и около двухсот "
            "пятидесяти единиц техники.",
            "Основу группировки составили российские десантники, к ним присоединились "
            "подразделения из Беларуси, Армении, Таджикистана и Кыргызстана.",
            "Решение о вводе сил было принято в ночь на шестое января по просьбе Токаева.",
            "Председатель Совета коллективной безопасности, премьер-министр Армении Никол "
            "Пашинян, тогда объяснил его угрозой национальной безопасности и суверенитету "
            "Казахстана.",
            "Политологи в Алматы отмечают, что быстрый уход союзников снимает опасения о "
            "долгосрочном присутствии российских войск в стране.",
            "Вместе с тем, считают эксперты, зависимость казахстанского руководства от Москвы "
            "после январских событий заметно выросла.",
            "По данным генеральной прокуратуры, в ходе беспорядков погибли более двухсот человек, "
            "среди них сотрудники силовых структур.",
            "Следствие по делам о массовых беспорядках продолжается.",
        ],
        "boilerplate": [
            "Мы используем файлы cookie",
            "Понятно",
            "Происшествия",
            "На казахском",
            "Поиск по сайту",
            "Просмотров",
            "13 января 2022, 11:30",
            "Поделиться",
            "ВКонтакте",
            "Подписывайтесь на наш",
            "Читайте также",
            "Токаев назвал нового премьер-министра страны",
            "В Алматы продолжают расчищать улицы после беспорядков",
            "Курс тенге стабилизировался после открытия банков",
            "Лидеры стран ОДКБ провели внеочередной саммит",
            "Комментарии",
            "Хорошо, что ушли так быстро, многие боялись обратного.",
            "А кто ответит за тех, кто погиб на площади?",
            "Популярное",
            "Мобильный интернет заработал во всех регионах",
            "Хоккейный клуб перенес домашние матчи",
            "Свидетельство о постановке на учет",
            "При использовании материалов гиперссылка на источник обязательна.",
            "metrika",
            "Подпишитесь на наш канал, чтобы не пропустить главное",
        ],
    },
    "eurasia_desk_malformed": {
        "url": "http://eurasiadesk.org/2022/01/08/massimov-arrest/?ref=homepage",
        "canonical_url": "https://eurasiadesk.org/2022/01/08/massimov-arrest/",
        "title": "Kazakhstan arrests ex-spy chief as president orders troops to fire "
                 "without warning",
        "outlet": "Eurasia Desk",
        "author": "Tomas Varga",
        "published_at": datetime(2022, 1, 8, 16, 0, tzinfo=UTC),
        "language": "en",
        "standfirst": None,
        "gold": [
            "Kazakhstan's former intelligence chief, Karim Massimov, has been detained on "
            "suspicion of high treason, the country's security committee said on Saturday, in the "
            "most dramatic sign yet of a power struggle at the top of the Kazakh state.",
            "Massimov, a two-time prime minister and one of the closest allies of former "
            "President Nursultan Nazarbayev, had been removed as head of the National Security "
            "Committee on Wednesday, as rioters overran government buildings in Almaty & the "
            "police appeared to melt away.",
            "The arrest came a day after President Kassym-Jomart Tokayev said in a televised "
            "address that he had authorised security forces to open fire on what he called "
            "bandits and terrorists without warning.",
            "He also dismissed calls for talks with protesters, saying there could be no "
            "negotiations with criminals.",
            "Tokayev thanked the leaders of the Collective Security Treaty Organization, and "
            "Vladimir Putin in particular, for answering his request for troops so quickly.",
            "Russian and allied units have taken over the protection of airports, power stations "
            "and other infrastructure, freeing Kazakh forces for what officials call "
            "counter-terrorist operations.",
            "Observers in the region said the timing of the arrest suggested that Tokayev was "
            "using the crisis, and the backing of the alliance, to remove figures loyal to his "
            "predecessor from the security services.",
            "Nazarbayev himself has not been seen in public since the violence began, and his "
            "whereabouts remain unclear.",
            "Officials said more than four thousand people had been detained across the country.",
            "The health ministry has reported dozens of deaths, although the full toll is "
            "expected to rise as communications are restored.",
            "The foreign ministry said on Saturday that the alliance's troops would remain only "
            "until the situation had fully stabilised, and that their presence was temporary.",
        ],
        "boilerplate": [
            "uses cookies for analytics only",
            "Read our cookie policy",
            "Front page",
            "Caucasus",
            "Commentary",
            "by Tomas Varga",
            "January 8, 2022 4:00 pm UTC",
            "Advertisement",
            "More from Eurasia Desk",
            "Almaty airport retaken, say authorities",
            "What the CSTO's first deployment means for Central Asia",
            "Kazakh cabinet resigns as protests spread",
            "Reader comments",
            "who could have predicted this a week ago?",
            "Same playbook as always, blame foreigners and purge the rivals.",
            "RSS feed",
            "Eurasia Desk is an independent nonprofit newsroom.",
            "_paq",
            "Donate to keep Eurasia Desk free",
            "Thank you for reading Eurasia Desk",
        ],
    },
    "almaty_observer_explainer": {
        "url": "https://www.almatyobserver.com/2022/01/19/explainer-csto-mission-kazakhstan/"
               "?utm_campaign=daily&utm_source=newsletter",
        "canonical_url": "https://www.almatyobserver.com/2022/01/19/"
                         "explainer-csto-mission-kazakhstan/",
        "title": "Explainer: how the CSTO mission in Kazakhstan came and went in two weeks",
        # no og:site_name and no site name in <title>: the host, without "www."
        "outlet": "almatyobserver.com",
        "author": "Leila Sadykova",
        # a bare date: midnight UTC
        "published_at": datetime(2022, 1, 19, tzinfo=UTC),
        "language": "en",
        "standfirst": None,
        "gold": [
            "The last planes carrying soldiers of the Collective Security Treaty Organization "
            "left Kazakhstan on Wednesday, closing a mission that lasted barely two weeks but may "
            "shape the country's politics for far longer.",
            "Here is what happened, and why it matters.",
            "Why were the troops invited?",
            "Protests that started over the price of car fuel in the west of the country turned "
            "into riots in Almaty in the first week of January.",
            "On the night of 5 January, President Kassym-Jomart Tokayev asked the alliance for "
            "help, describing the unrest as an act of aggression by foreign-trained terrorist "
            "groups.",
            "The treaty allows members to request collective assistance when they face external "
            "aggression.",
            "Lawyers and opposition figures have argued that the events in Almaty did not fit "
            "that description, but the alliance's council approved the request within hours.",
            "Who sent soldiers?",
            "All five of Kazakhstan's partners in the bloc contributed, although most of the "
            "personnel came from Russia.",
            "The contributions announced by the alliance were roughly as follows:",
            "Airborne troops and transport aviation",
            "Around one hundred and fifty soldiers",
            "The foreign units guarded airports, power plants and government buildings.",
            "According to the Kazakh authorities they did not take part in clearing the streets, "
            "a claim that independent journalists were unable to verify while the internet was "
            "switched off.",
            "What changed?",
            "Tokayev replaced Nursultan Nazarbayev as head of the powerful Security Council.",
            "The former security chief Karim Massimov was arrested on treason charges.",
            "Several relatives of Nazarbayev lost senior posts in state companies.",
            "For Moscow, the operation was a demonstration that the alliance can move quickly and "
            "then leave on schedule.",
            "For Tokayev, it provided the backing he needed to take full control of a state that "
            "his predecessor had built and dominated for three decades.",
            "Critics warn that the precedent cuts both ways.",
            "A future government facing mass protests could again turn to its neighbours rather "
            "than to its own citizens, and the next mission might not end as quickly as this one.",
        ],
        "boilerplate": [
            "Your privacy",
            "We and our partners store and access information on your device",
            "Investigations",
            "Support us",
            "Words by",
            "Posted in",
            "Tagged",
            "Previous: Tenge rebounds as calm returns to Almaty markets",
            "Next: New cabinet sworn in as parliament backs Smailov",
            "2 thoughts on this explainer",
            "Thanks for laying this out so clearly",
            "You forgot to mention the price of gas went back down afterwards.",
            "Leave a reply",
            "Recent posts",
            "Families search for students detained during the riots",
            "Ten years after Zhanaozen, the same grievances",
            "Proudly powered by WordPress",
            "Privacy Policy",
            "You have three free articles left this month",
            "Subscribe to keep reading the Almaty Observer",
        ],
    },
}

# Pages that are not articles, and the verdict each must get.
NOT_ARTICLES = {
    "nomad_times_topic_index": ("https://nomadtimes.com/topics/kazakhstan-unrest?page=1",
                                "not_article_listing"),
    "nomad_times_sections_nav": ("https://nomadtimes.com/sections", "not_article_listing"),
    "steppe_courier_breaking_short": (
        "https://www.steppecourier.com/world/asia/2022/01/05/breaking-kazakhstan-csto",
        "not_article_too_short",
    ),
}
# the same pages judged by their content alone, at an address that says nothing
BY_CONTENT = {
    "nomad_times_topic_index": "not_article_index_page",
    "nomad_times_sections_nav": "not_article_navigation",
}
# Markup or code that must never reach an article's text, whatever the page.
SCRIPT_TRACES = ["function(", "window.", "var ", "{", "}", "<", ">"]


def _html(name: str) -> str:
    return (PAGES / f"{name}.html").read_text(encoding="utf-8")


def _flat(text: str) -> str:
    return " ".join(text.split())


def _found(sentences: list[str], text: str) -> list[str]:
    flat = _flat(text)
    return [s for s in sentences if _flat(s) in flat]


@pytest.fixture(scope="module")
def extracted() -> dict[str, Extraction]:
    return {name: extract_article(_html(name), url=page["url"]) for name, page in ARTICLES.items()}


# --- article pages ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ARTICLES)
def test_article_metadata(extracted, name):
    page, extraction = ARTICLES[name], extracted[name]
    article = extraction.article
    assert article is not None, extraction.detail
    assert (extraction.reason, extraction.detail) == (None, None)
    for key in ("title", "outlet", "author", "language", "canonical_url"):
        assert getattr(article, key) == page[key], key
    assert extraction.canonical_url == page["canonical_url"]
    assert article.url == page["url"]
    assert article.raw == _html(name)
    assert article.seed_file is None


@pytest.mark.parametrize("name", ARTICLES)
def test_published_at_keeps_time_and_zone(extracted, name):
    published = extracted[name].article.published_at
    expected = ARTICLES[name]["published_at"]
    assert published.tzinfo is not None
    assert published == expected
    assert published.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("name", ARTICLES)
def test_text_starts_with_the_title_once(extracted, name):
    article = extracted[name].article
    assert article.text.startswith(article.title + "\n\n")
    assert article.text.count(article.title) == 1


@pytest.mark.parametrize("name", ARTICLES)
def test_standfirst_only_when_the_page_shows_it(extracted, name):
    extraction, standfirst = extracted[name], ARTICLES[name]["standfirst"]
    paragraphs = extraction.article.text.split("\n\n")
    if standfirst:
        assert paragraphs[1] == standfirst
    elif extraction.description:
        # a description that is only metadata is not part of the article
        assert extraction.description not in extraction.article.text


@pytest.mark.parametrize("name", ARTICLES)
def test_text_has_the_article_and_no_boilerplate(extracted, name):
    page, text = ARTICLES[name], extracted[name].article.text
    found_gold = _found(page["gold"], text)
    found_boilerplate = _found(page["boilerplate"], text)
    assert len(found_gold) / len(page["gold"]) >= 0.95, set(page["gold"]) - set(found_gold)
    assert found_boilerplate == []
    assert [t for t in SCRIPT_TRACES if t in text] == []
    # no paragraph is a link of the page (menus, related headlines, tags)
    tree = lxml.html.fromstring(_html(name))
    labels = {_flat(a.text_content()) for a in tree.iter("a")} - {""}
    assert [p for p in text.split("\n\n") if _flat(p) in labels] == []


@pytest.mark.parametrize("name", ARTICLES)
def test_at_least_as_good_as_plain_trafilatura(extracted, name):
    gold, html = ARTICLES[name]["gold"], _html(name)
    ours = _found(gold, extracted[name].article.text)
    theirs = _found(gold, trafilatura.extract(html) or "")
    assert len(ours) >= len(theirs)


def test_paragraphs_are_separated_by_blank_lines(extracted):
    text = extracted["steppe_courier_deployment"].article.text
    paragraphs = text.split("\n\n")
    assert all(p.strip() and "\n" not in p for p in paragraphs)
    # headline, standfirst, eight paragraphs
    assert len(paragraphs) == 10


def test_malformed_html_still_extracts():
    html = _html("eurasia_desk_malformed")
    # the page really is broken: unclosed paragraphs and headings, no closing body
    assert html.count("<p") > html.count("</p>") and "</body>" not in html
    assert "</h1>" not in html
    extraction = extract_article(html)
    assert extraction.article is not None
    assert len(extraction.article.text) > MIN_ARTICLE_CHARS


def test_without_a_fetched_url_the_page_gives_its_own():
    extraction = extract_article(_html("steppe_courier_deployment"))
    article = extraction.article
    assert article.url is None
    assert article.canonical_url == ARTICLES["steppe_courier_deployment"]["canonical_url"]
    # a relative canonical link cannot be resolved without the fetched URL
    article = extract_article(_html("almaty_observer_explainer")).article
    assert article.canonical_url is None and article.outlet is None


def test_canonical_defaults_to_the_fetched_url():
    html = _html("almaty_observer_explainer").replace('<link rel="canonical"', "<link rel=\"x\"")
    extraction = extract_article(html, url="HTTPS://WWW.AlmatyObserver.com:443/a/b?gclid=1#top")
    assert extraction.canonical_url == "https://www.almatyobserver.com/a/b"


def test_declared_language_contradicted_by_the_script_is_dropped():
    html = _html("stepnoy_vestnik_withdrawal_ru")
    html = html.replace('lang="ru"', 'lang="en"').replace("ru_RU", "en_US")
    assert extract_article(html).article.language is None


def test_a_time_in_metadata_on_another_day_than_htmldate_is_ignored():
    html = _html("steppe_courier_deployment").replace(
        'content="2022-01-06T09:40:00+06:00"', 'content="2022-01-06T09:40:00+06:00x"'
    ).replace('datetime="2022-01-06T09:40:00+06:00"', 'datetime="2021-12-31T08:00:00+06:00"')
    published = extract_article(html).article.published_at
    assert published == datetime(2022, 1, 6, tzinfo=UTC)


# --- pages that are not articles ----------------------------------------------------------------


@pytest.mark.parametrize("name", NOT_ARTICLES)
def test_not_an_article(name):
    url, reason = NOT_ARTICLES[name]
    extraction = extract_article(_html(name), url=url)
    assert extraction.article is None
    assert extraction.reason == reason
    assert extraction.detail and "\n" not in extraction.detail
    # what the page says about itself is kept for the reject record
    assert extraction.canonical_url and extraction.canonical_url.startswith("https://")


@pytest.mark.parametrize("name", BY_CONTENT)
def test_not_an_article_by_its_content_alone(name):
    extraction = extract_article(_html(name), url="https://nomadtimes.com/x/a1")
    assert extraction.article is None
    assert extraction.reason == BY_CONTENT[name]


def test_index_page_keeps_its_description():
    url, _ = NOT_ARTICLES["nomad_times_topic_index"]
    extraction = extract_article(_html("nomad_times_topic_index"), url=url)
    assert extraction.canonical_url == "https://nomadtimes.com/topics/kazakhstan-unrest"
    assert extraction.description.startswith("All our coverage")


def test_min_chars_is_a_parameter():
    extraction = extract_article(_html("steppe_courier_breaking_short"), min_chars=100)
    assert extraction.article is not None
    assert extraction.article.published_at == datetime(2022, 1, 5, 23, 58, tzinfo=ALMT)


@pytest.mark.parametrize("html", ["", "   \n\t ", "\ufeff"])
def test_empty_input_fails_cleanly(html):
    extraction = extract_article(html, url="https://example.com/a")
    assert (extraction.article, extraction.reason) == (None, "extraction_failed")


@pytest.mark.parametrize("html", [
    "<html></html>",
    "<html><head><title>Loading</title><script>var x = 1;</script></head><body> </body></html>",
])
def test_page_without_text_fails_cleanly(html):
    extraction = extract_article(html)
    assert (extraction.article, extraction.reason) == (None, "extraction_failed")


def test_lone_surrogates_from_a_lossy_decode_do_not_lose_the_page():
    html = _html("steppe_courier_deployment").replace("Thursday morning", "Thursday\udcff morning")
    article = extract_article(html).article
    assert article is not None and "Thursday? morning" in article.text


def test_a_crash_inside_trafilatura_is_a_reject(monkeypatch, caplog):
    def crash(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(article_module, "bare_extraction", crash)
    extraction = extract_article(_html("steppe_courier_deployment"), url="https://a.kz/x")
    assert (extraction.article, extraction.reason) == (None, "extraction_failed")
    assert "RecursionError" in extraction.detail
    assert "https://a.kz/x: extraction crashed" in caplog.text


@pytest.mark.parametrize("seed", range(5))
def test_garbage_fails_cleanly(seed):
    noise = random.Random(seed).randbytes(20_000)
    for text in (noise.decode("latin-1"), noise.decode("utf-8", errors="replace")):
        extraction = extract_article(text, url="https://example.com/a")
        assert (extraction.article, extraction.reason) == (None, "extraction_failed")


@pytest.mark.parametrize("text", [
    '{"title": "not a page", "items": []}',
    "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
    '<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>',
    "Just a few lines of plain text.\nNo markup anywhere in it.\n",
])
def test_not_html(text):
    extraction = extract_article(text)
    assert (extraction.article, extraction.reason) == (None, "not_html")


# --- running in a process pool ------------------------------------------------------------------


def test_results_pickle():
    extraction = extract_article(_html("stepnoy_vestnik_withdrawal_ru"))
    assert pickle.loads(pickle.dumps(extraction)) == extraction


def test_runs_in_a_process_pool(extracted):
    names = list(ARTICLES)
    htmls = [_html(name) for name in names]
    urls = [ARTICLES[name]["url"] for name in names]
    # spawn: a fresh interpreter per worker, as on macOS/Windows; nothing leaks in by fork
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        results = list(pool.map(extract_article, htmls, urls))
    assert [r.article.text for r in results] == [extracted[n].article.text for n in names]


@pytest.mark.parametrize(("fetched", "kept"), [
    ("https://evil.example.net/planted", "https://evil.example.net/planted"),
    ("https://www.steppecourier.com/elsewhere", None),   # same site: its canonical is taken
    ("https://mirror.steppecourier.com/copy", None),    # a subdomain of the same site too
    ("http://127.0.0.1:8000/planted", "http://127.0.0.1:8000/planted"),
])
def test_a_canonical_url_on_another_site_is_ignored(fetched, kept):
    """A page on one site naming another site's article as its canonical must not take
    that article's place."""
    declared = ARTICLES["steppe_courier_deployment"]["canonical_url"]
    extraction = extract_article(_html("steppe_courier_deployment"), url=fetched)
    assert extraction.article.canonical_url == (kept or declared)
    assert extraction.canonical_url == (kept or declared)


def test_same_site_reads_the_public_suffix_list():
    from newswatch.extractors.urls import same_site

    assert same_site("https://news.bbc.co.uk/a", "https://www.bbc.co.uk/b")
    assert not same_site("https://bbc.co.uk/a", "https://evil.co.uk/a")
    assert not same_site("https://a.github.io/x", "https://b.github.io/x")
    assert not same_site("http://127.0.0.1/x", "http://127.0.0.2/x")
    assert same_site("http://localhost:1/x", "http://localhost:2/y")


def test_the_justext_fallback_keeps_one_copy_of_the_same_stop_words():
    """trafilatura's jusText fallback gets the union of jusText's stop lists as one
    lower-cased frozenset: the words jusText itself would compare, and paragraphs
    classified alike."""
    import justext.core
    import trafilatura.external
    from justext.utils import get_stoplist, get_stoplists

    from newswatch.extractors import justext_stoplist

    as_trafilatura = tuple({w for lang in get_stoplists() for w in get_stoplist(lang)})
    expected = justext_stoplist._define_stoplist(as_trafilatura)  # jusText's own function
    union = trafilatura.external.jt_stoplist_init()
    assert union == expected and len(union) > 100_000
    assert justext.core.define_stoplist(union) is union              # no second copy
    other = get_stoplist("English")                                  # any other list: as before
    assert justext.core.define_stoplist(other) == justext_stoplist._define_stoplist(other)

    tree = lxml.html.fromstring((PAGES / "steppe_courier_deployment.html").read_bytes())
    kept = trafilatura.external.try_justext(tree, None, None)
    paragraphs = justext.core.ParagraphMaker.make_paragraphs(tree)
    justext.core.classify_paragraphs(paragraphs, as_trafilatura, 50, 150, 0.1, 0.2, 0.25, True)
    justext.core.revise_paragraph_classification(paragraphs, 150)
    good = [p.text for p in paragraphs if not p.is_boilerplate]
    assert good and [e.text for e in kept] == good


def _page_dated_in_words() -> str:
    """A Russian article whose only full date is written out ("07 янв 2022, 03:30"),
    as Russian outlets do: htmldate's own patterns miss it, dateparser reads it."""
    body = "".join(f"<p>Абзац {i}: президент Токаев выступил с обращением к нации,"
                   " и войска ОДКБ прибыли в Алматы.</p>" for i in range(8))
    return ('<html lang="ru"><head><title>Войска ОДКБ прибыли в Алматы</title></head>'
            '<body><article><h1>Войска ОДКБ прибыли в Алматы</h1>'
            f'<span class="date">07 янв 2022, 03:30</span>{body}</article></body></html>')


def test_dates_written_in_words_are_read_in_the_sources_languages():
    from newswatch.extractors.date_languages import DEFAULT_DATE_LANGUAGES, read_dates_in

    def published(languages) -> datetime | None:
        read_dates_in(languages)
        return extract_article(_page_dated_in_words(), "https://example.kz/news/x").article \
            .published_at

    try:
        assert published(DEFAULT_DATE_LANGUAGES).date().isoformat() == "2022-01-07"
        assert published(["en"]).date().isoformat() != "2022-01-07"  # Russian not read
        assert published([]).date().isoformat() == "2022-01-07"       # all of dateparser's
    finally:
        read_dates_in(DEFAULT_DATE_LANGUAGES)


def test_the_pool_s_workers_read_dates_in_the_languages_they_are_given():
    import asyncio

    from newswatch.config import load_settings
    from newswatch.flows.pool import ExtractionPool

    async def published(languages) -> datetime | None:
        async with ExtractionPool(str(load_settings().resolved_watchlist()), 1,
                                  date_languages=languages) as pool:
            return (await pool.extract(_page_dated_in_words(), None)).article.published_at

    assert asyncio.run(published(["ru"])).date().isoformat() == "2022-01-07"
    assert asyncio.run(published(["en"])).date().isoformat() != "2022-01-07"
