"""`make test` alone works on a fresh machine: it installs what the suite needs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_make_test_installs_chromium_when_missing(tmp_path):
    """No chromium on PATH: `make chromium` (a prerequisite of `make test`) asks apt
    for it. apt-get itself is a stand-in here: installing is not the test's to do."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "id").symlink_to(shutil.which("id"))
    calls = tmp_path / "apt-calls"
    fake_apt = bin_dir / "apt-get"
    fake_apt.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
    fake_apt.chmod(0o755)
    (bin_dir / "sudo").symlink_to(fake_apt)  # not root: sudo apt-get ...
    result = subprocess.run([shutil.which("make"), "-s", "-C", str(ROOT), "chromium"],
                            env={"PATH": str(bin_dir)}, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert "installing Debian's chromium" in result.stdout
    assert "install -y -q chromium" in calls.read_text()


def test_ci_only_calls_make_test():
    lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
             if line.strip() and not line.startswith(("#", "set ", "cd "))]
    assert lines == ["make test"]
    makefile = (ROOT / "Makefile").read_text()
    assert "\ntest: $(STAMP) chromium\n" in makefile
