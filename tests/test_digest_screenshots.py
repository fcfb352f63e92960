"""The digest's HTML rendered by a real browser (Debian's headless Chromium) at phone
and desktop widths: it renders, it is not blank, and nothing overflows a phone.

`make screenshots` runs this test with NEWSWATCH_UPDATE_SCREENSHOTS=1, which
also copies the two PNGs to docs/ for the README.
"""

from __future__ import annotations

import html as html_lib
import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from digest_week import build_week

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WIDTHS = {"phone": 390, "desktop": 1280}
# no network, no profile left behind, no GPU on a server
_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
          "--disable-background-networking", "--disable-extensions", "--no-first-run",
          "--hide-scrollbars", "--mute-audio", "--force-device-scale-factor=1"]


@pytest.fixture(scope="module")
def html(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("screens")
    page = folder / "digest.html"
    page.write_text(build_week(folder / "newswatch.duckdb")["html"], encoding="utf-8")
    return page


def _chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    assert CHROMIUM, "Debian's chromium is needed for this test: apt-get install chromium"
    return subprocess.run(
        [CHROMIUM, *_FLAGS, f"--user-data-dir={tmp / 'profile'}", *args],
        capture_output=True, text=True, timeout=120, check=True,
    )


def _png_size_and_colours(path: Path) -> tuple[int, int, int]:
    """(width, height, distinct byte values in the pixel data) of a PNG, stdlib only."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    return width, height, len(set(zlib.decompress(idat)))


def _frame(html: Path, width: int) -> Path:
    """The digest in an iframe exactly `width` px wide, as a phone's screen would be:
    Chromium's own window cannot be narrower than 500 px. A srcdoc frame shares
    the page's origin, so the page can measure what the frame laid out."""
    page = html.with_name(f"frame-{width}.html")
    page.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
        '<body style="margin:0;background:#ffffff">'
        f'<iframe id="digest" style="display:block;border:0;width:{width}px;height:2400px"'
        f' srcdoc="{html_lib.escape(html.read_text(encoding="utf-8"), quote=True)}"></iframe>'
        "<script>window.addEventListener('load', function () {"
        " var d = document.getElementById('digest').contentDocument;"
        " document.title = 'scroll=' + d.documentElement.scrollWidth"
        " + ' body=' + d.body.textContent.length; });</script></body></html>",
        encoding="utf-8")
    return page


@pytest.mark.parametrize("device", list(WIDTHS))
def test_the_digest_renders_in_chromium(html, tmp_path, device):
    width = WIDTHS[device]
    page = _frame(html, width)
    png = tmp_path / f"digest-{device}.png"
    _chromium(tmp_path, f"--window-size={width},2400", f"--screenshot={png}", page.as_uri())
    got_width, got_height, colours = _png_size_and_colours(png)
    assert (got_width, got_height) == (width, 2400)
    assert colours > 50, "the screenshot is (nearly) blank"

    # What the browser laid out: nothing wider than the screen, and the stories there.
    dom = _chromium(tmp_path, f"--window-size={width},2400", "--virtual-time-budget=5000",
                    "--dump-dom", page.as_uri()).stdout
    measured = re.search(r"<title>scroll=(\d+) body=(\d+)</title>", dom)
    assert measured, dom[:500]
    scroll, text = map(int, measured.groups())
    assert scroll <= width, f"the digest is {scroll}px wide on a {width}px screen"
    assert text > 2000  # the stories are there, not an error page

    if os.environ.get("NEWSWATCH_UPDATE_SCREENSHOTS"):
        shutil.copy(png, ROOT / "docs" / png.name)
