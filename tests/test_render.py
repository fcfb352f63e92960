"""Rendering the digest: text, HTML, one multipart e-mail; untrusted text stays in the body."""

from __future__ import annotations

import email
from datetime import UTC, date, datetime
from email import policy

from newswatch.digest.model import Digest, DigestStory, NewFact, Report
from newswatch.digest.render import build_message, render_html, render_text, write_digest

EVIL = 'CSTO <script>alert("x")</script> troops\r\nBcc: victim@example.com'


def _digest(stories):
    return Digest(day=date(2022, 1, 13), timezone="Asia/Almaty", stories=stories,
                  generated_at=datetime(2022, 1, 13, 2, 0, tzinfo=UTC))


def _story(title=EVIL, link="https://example.com/a?x=1&y=2"):
    return DigestStory(
        title=title, outlet="Riddle <b>", link=link, source_label=link or "seed file a.txt",
        published_at=datetime(2022, 1, 12, tzinfo=UTC),
        first_seen_at=datetime(2022, 1, 13, tzinfo=UTC),
        summary="Tokayev asked the CSTO for help. Troops arrived in Almaty.",
        mentions=3, entities=[("Kassym-Jomart Tokayev", 2), ("CSTO", 1)],
    )


def test_html_escapes_untrusted_text():
    html = render_html(_digest([_story()]))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Riddle &lt;b&gt;" in html
    assert 'href="https://example.com/a?x=1&amp;y=2"' in html
    assert "Kassym-Jomart Tokayev 2" in html


def test_text_has_title_outlet_summary_and_entities():
    text = render_text(_digest([_story(title="As CSTO Troops Leave")]))
    assert "1. As CSTO Troops Leave" in text
    assert "Riddle <b>, published 2022-01-12" in text
    assert "Tokayev asked the CSTO for help." in text
    assert "Kassym-Jomart Tokayev (2), CSTO (1)" in text


def test_a_quiet_day_says_so_in_one_line():
    digest = _digest([])
    assert digest.subject == "newswatch digest for 2022-01-13: no stories"
    assert "A quiet day" in render_text(digest)
    assert "A quiet day" in render_html(digest)


def test_message_is_multipart_alternative_and_titles_stay_out_of_headers():
    digest = _digest([_story(), _story(title="Second")])
    message = build_message(digest, render_text(digest), render_html(digest),
                            sender="newswatch@example.org", recipients=["a@example.org"])
    parsed = email.message_from_bytes(bytes(message), policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert parsed["Subject"] == "newswatch digest for 2022-01-13: 2 stories"
    assert parsed["Bcc"] is None
    assert "victim" not in str(parsed["To"]) and "victim" not in str(parsed["Subject"])
    assert "Bcc: victim@example.com" in parsed.get_body(("plain",)).get_content()


def test_write_digest_saves_txt_html_and_eml(tmp_path):
    files = write_digest(_digest([_story(link=None)]), tmp_path / "digests",
                         sender="n@example.org", recipients=[])
    assert [p.name for p in (files.text, files.html, files.eml)] == [
        "2022-01-13.txt", "2022-01-13.html", "2022-01-13.eml"]
    assert "seed file a.txt" in files.html.read_text()
    parsed = email.message_from_bytes(files.eml.read_bytes(), policy=policy.default)
    assert parsed["To"] == "undisclosed-recipients:;"


def _development():
    story = _story(title="Troops begin to leave")
    story.development = True
    story.began = date(2022, 1, 8)
    story.began_title = "CSTO troops land <b>"
    story.began_outlet = "Steppe Courier"
    story.began_link = "https://example.com/began"
    story.earlier = 3
    story.reports = [Report("Riddle <b>", "Troops begin to leave", "https://example.com/a", "a"),
                     Report("Wire", "Troops leave", "https://example.com/w", "w", copy=True),
                     Report("Observer", "Withdrawal", None, "seed file o.txt")]
    story.new = [NewFact("The first planes left Almaty on Thursday <i>.", "Wire",
                         "https://example.com/w")]
    story.names = ["Aliya <Smith>"]
    return story


def test_a_development_says_where_it_began_and_what_is_new():
    digest = _digest([_story(title="A new story"), _development()])
    assert digest.count_line == "2 stories (1 development)"
    assert [s.title for s in digest.developments] == ["Troops begin to leave"]
    text = render_text(digest)
    assert "1. A new story" in text and "2. [development] Troops begin to leave" in text
    assert "Began on 2022-01-08 with “CSTO troops land <b>” (Steppe Courier); 3 articles" \
        " before today" in " ".join(text.split())
    assert "began: https://example.com/began" in text
    assert "- The first planes left Almaty on Thursday <i>. (Wire)" in text
    assert "also: Wire (copy) https://example.com/w" in text
    assert "also: Observer (seed file o.txt)" in text
    assert "New names: Aliya <Smith>" in text
    html = render_html(digest)
    assert "CSTO troops land &lt;b&gt;" in html and "<b>" not in html.split("<body")[1]
    assert "on Thursday &lt;i&gt;." in html and "Aliya &lt;Smith&gt;" in html
    assert 'href="https://example.com/began"' in html
    assert "2 stories (1 development)" in html
