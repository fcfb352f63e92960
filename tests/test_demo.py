"""End to end: `newswatch demo` in an empty folder, on Prefect's ephemeral API."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow  # the whole demo in a subprocess: left out of `make test-fast`


def _run(args, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PREFECT_API", "NEWSWATCH_"))}
    env["PREFECT_HOME"] = str(cwd / ".prefect")  # a private ephemeral API database
    env["COLUMNS"] = "120"
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_demo_runs_the_whole_pipeline_in_an_empty_folder(tmp_path):
    newswatch = str(Path(sys.executable).parent / "newswatch")
    first = _run([newswatch, "demo"], tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    out = first.stdout
    assert "ingested: 5" in out
    assert "5 articles in data/newswatch.duckdb" in out
    assert "Kazakhstan" in out and "Collective Security Treaty Organization" in out
    digests = sorted(p.name for p in (tmp_path / "digests").iterdir())
    assert len(digests) == 3 and {Path(d).suffix for d in digests} == {".txt", ".html", ".eml"}
    con = duckdb.connect(str(tmp_path / "data" / "newswatch.duckdb"), read_only=True)
    articles, mentions, stories = con.execute(
        "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM mentions),"
        " (SELECT count(*) FROM stories)").fetchall()[0]
    story = con.execute("SELECT story_id FROM stories").fetchall()[0][0]
    con.close()
    assert articles == 5 and mentions > 200
    # the five seeds are one story, and the digest counts it as the warehouse does
    assert stories == 1
    assert "1 story" in (tmp_path / "digests" / digests[0]).read_text()
    assert "Digest for" in out and ": 1 story, written to" in out
    # the demo ends with the seeds' story as it developed, 8 to 20 January 2022
    timeline = out[out.index("The seeds' story as it developed"):]
    assert f"newswatch story {story}" in timeline
    days = [line[:10] for line in timeline.splitlines() if line[:4] == "2022"]
    assert days == sorted(days) and days[0] == "2022-01-08" and days[-1] == "2022-01-20"
    assert len(days) == 5 and timeline.count("development") == 4

    second = _run([newswatch, "demo"], tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "ingested: 0" in second.stdout and "already held: 5" in second.stdout
    con = duckdb.connect(str(tmp_path / "data" / "newswatch.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM mentions").fetchall() == [(mentions,)]
    con.close()
