"""Which charset a fetched HTML page is in, and its text.

    text, encoding = decode_html(body, "text/html; charset=windows-1251")

The order is a byte-order mark, UTF-16 by its NUL bytes, the Content-Type
header, the document's own <meta> declaration, then detection with
charset_normalizer; bytes that are valid UTF-8 beyond ASCII are read as UTF-8
whatever the label says. A declared charset
that Python does not know, or a declared UTF-8 that the bytes are not, falls
through to detection: old sites often declare one charset and send another.
"""

from __future__ import annotations

import codecs
import logging
import re

from charset_normalizer import from_bytes

__all__ = ["decode_html", "declared_charset", "sniff_charset", "utf16_without_bom"]

logger = logging.getLogger(__name__)

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([^\s"';,]+)""", re.IGNORECASE)
# Both <meta charset="x"> and <meta http-equiv="Content-Type" content="text/html; charset=x">.
_META_CHARSET = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([a-zA-Z0-9_:.+-]+)""", re.IGNORECASE
)
_META_WINDOW = 4096
# Browsers read these labels as windows-1252 (HTML standard), and so do pages written for them.
_AS_WINDOWS_1252 = {"ascii", "latin-1", "iso8859-1"}
_PREFERRED = ("cp1252", "cp1251")


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode a page; return its text and the (Python) name of the charset used."""
    encoding = sniff_charset(body, content_type)
    return body.decode(encoding, errors="replace"), encoding


def sniff_charset(body: bytes, content_type: str | None = None) -> str:
    """The charset to decode `body` with: BOM, header, <meta>, then detection."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return "utf-8-sig" if name == "utf-8" else name
    wide = utf16_without_bom(body)
    if wide:
        return wide
    declared = _known(declared_charset(content_type), "header")
    if declared is None:
        match = _META_CHARSET.search(body[:_META_WINDOW])
        declared = _known(match.group(1).decode("ascii") if match else None, "<meta>")
        if declared in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
            # a <meta> readable as ASCII cannot be in UTF-16 (HTML standard: use UTF-8)
            declared = "utf-8"
    if declared == "utf-8" and not _is_utf8(body):
        logger.debug("declared UTF-8 but the bytes are not: detecting")
        declared = None
    elif declared not in (None, "utf-8") and not body.isascii() and _is_utf8(body):
        # bytes that are valid UTF-8 beyond ASCII are UTF-8 whatever the label says:
        # text in a single-byte charset almost never is (a UTF-8 page labelled
        # ISO-8859-1 was stored as mojibake)
        logger.debug("declared %s but the bytes are UTF-8", declared)
        declared = "utf-8"
    return declared or _detect(body)


def utf16_without_bom(body: bytes) -> str | None:
    """"utf-16-le" or "utf-16-be" when the bytes look like UTF-16 text with no BOM:
    many of every other byte NUL (ASCII markup), none of the others."""
    head = body[:1024]
    if len(head) < 16:
        return None
    even, odd = head[0::2], head[1::2]
    even_nul, odd_nul = even.count(0) / len(even), odd.count(0) / len(odd)
    # (a quarter, not a half: in Cyrillic or Greek only the markup's bytes are NUL)
    if odd_nul > 0.25 and even_nul < 0.01:
        return "utf-16-le"
    if even_nul > 0.25 and odd_nul < 0.01:
        return "utf-16-be"
    return None


def declared_charset(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header, as written."""
    match = _HEADER_CHARSET.search(content_type or "")
    return match.group(1) if match else None


def _known(label: str | None, where: str) -> str | None:
    """Python's name for a charset label, or None when Python does not know it."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().lower()).name
    except LookupError:
        logger.debug("unknown charset %r in the %s: detecting", label, where)
        return None
    return "cp1252" if name in _AS_WINDOWS_1252 else name


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a multi-byte sequence cut at the end of a truncated body is still UTF-8
        return exc.start >= len(body) - 3 and exc.reason == "unexpected end of data"
    return True


def _detect(body: bytes) -> str:
    if _is_utf8(body):  # cheap, and right for most of the web
        return "utf-8"
    matches = from_bytes(body)
    best = matches.best()
    if best is None:
        return "utf-8"
    # Latin text fits several single-byte charsets equally well (cp1250 reads "café" as
    # well as cp1252 does, but "à" as "ŕ"): a tie goes to the charsets the web uses most.
    tied = {
        _known(name, "detection")
        for match in matches
        if match.chaos <= best.chaos and match.coherence >= best.coherence
        for name in match.could_be_from_charset
    }
    for name in _PREFERRED:
        if name in tied:
            return name
    return _known(best.encoding, "detection") or "utf-8"
