"""The daily digest: from the warehouse's rows to text, HTML and an e-mail."""

from newswatch.digest.build import build_digest
from newswatch.digest.model import Digest, DigestStory
from newswatch.digest.render import (
    DigestFiles,
    build_message,
    render_html,
    render_text,
    write_digest,
)

__all__ = [
    "Digest", "DigestFiles", "DigestStory", "build_digest", "build_message", "render_html",
    "render_text", "send_message", "SmtpSettings", "write_digest",
]
