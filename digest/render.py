"""Rendering a Digest as plain text, HTML and one multipart e-mail, and saving them.

Article titles and text come from the web: the HTML template escapes them
(Jinja autoescape) and none of them ever goes into a header.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from .model import Digest

_env = Environment(
    loader=PackageLoader("newswatch.digest", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass
class DigestFiles:
    text: Path
    html: Path
    eml: Path


def render_text(digest: Digest) -> str:
    return _env.get_template("digest.txt").render(digest=digest)


def render_html(digest: Digest) -> str:
    return _env.get_template("digest.html").render(digest=digest)


def build_message(
    digest: Digest, text: str, html: str, *, sender: str, recipients: list[str]
) -> EmailMessage:
    """One multipart/alternative message: plain text first, HTML preferred."""
    message = EmailMessage()
    message["Subject"] = digest.subject
    message["From"] = sender
    message["To"] = ", ".join(recipients) if recipients else "undisclosed-recipients:;"
    message["Date"] = format_datetime(digest.generated_at)
    message["Message-ID"] = make_msgid(domain="newswatch.invalid")
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def write_digest(
    digest: Digest, directory: Path, *, sender: str, recipients: list[str]
) -> DigestFiles:
    """Write `<day>.txt`, `<day>.html` and `<day>.eml` under `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    text, html = render_text(digest), render_html(digest)
    stem = directory / digest.day.isoformat()
    files = DigestFiles(stem.with_suffix(".txt"), stem.with_suffix(".html"),
                        stem.with_suffix(".eml"))
    files.text.write_text(text, encoding="utf-8")
    files.html.write_text(html, encoding="utf-8")
    message = build_message(digest, text, html, sender=sender, recipients=recipients)
    files.eml.write_bytes(bytes(message))
    return files
