"""The command line: every command has help and is in the README; errors are one line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import load
from typer.testing import CliRunner

from newswatch.cli import app
from newswatch.extractors.records import Article, Mention
from newswatch.warehouse.connection import connect

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
COMMANDS = [["demo"], ["ingest"], ["ingest", "seeds"], ["ingest", "urls"], ["poll"],
            ["reprocess"], ["digest"], ["sql"], ["serve"], ["compact"]]
runner = CliRunner()


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_and_is_in_the_readme(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    assert f"newswatch {' '.join(command)}" in README


@pytest.fixture
def warehouse(db_path):
    text = "Tokayev asked the CSTO for help."
    article = Article(text=text, raw=text, title="Help", seed_file="a.txt", outlet="Riddle",
                      mentions=[Mention("tokayev", "Tokayev", 0, 7, text)])
    with connect(db_path) as con:
        load(con, [article])
    return db_path


def test_sql_prints_a_table(warehouse):
    result = runner.invoke(app, ["--db", str(warehouse), "sql",
                                 "SELECT title, outlet FROM articles"])
    assert result.exit_code == 0, result.output
    assert re.search(r"title\s+┃\s+outlet", result.output)
    assert re.search(r"Help\s+│\s+Riddle", result.output)
    markup = runner.invoke(app, ["--db", str(warehouse), "sql", "SELECT '[red]x[/red]' AS t"])
    assert "[red]x[/red]" in markup.output


def test_sql_csv_and_json(warehouse):
    csv_out = runner.invoke(app, ["--db", str(warehouse), "sql", "--format", "csv",
                                  "SELECT entity_id, surface FROM mentions"])
    assert csv_out.output.splitlines() == ["entity_id,surface", "tokayev,Tokayev"]
    json_out = runner.invoke(app, ["--db", str(warehouse), "sql", "--format", "json",
                                   "SELECT seed_file, first_seen_at FROM articles"])
    row = json.loads(json_out.output.splitlines()[0])
    assert row["seed_file"] == "a.txt" and row["first_seen_at"][:2] == "20"


def _newswatch(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "newswatch", *args], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, **(env or {})}, timeout=120)


def test_a_write_is_refused_in_one_line(warehouse):
    result = _newswatch("--db", str(warehouse), "sql", "DELETE FROM articles")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "newswatch: error: newswatch sql is read-only: refused a DELETE statement (only "
        "SELECT, FROM, SHOW, DESCRIBE, SUMMARIZE, EXPLAIN, PRAGMA and CALL run)")
    assert "Traceback" not in result.stderr
    with connect(warehouse, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM articles").fetchall() == [(1,)]


def test_sql_cannot_read_the_environment_or_overwrite_the_warehouse(warehouse):
    before = warehouse.read_bytes()
    secret = {"NEWSWATCH_SMTP_PASSWORD": "hunter2-secret"}
    for query in ("SELECT * FROM read_text('/proc/self/environ')",
                  f"EXPLAIN ANALYZE COPY (SELECT 'gone') TO '{warehouse}'"):
        result = _newswatch("--db", str(warehouse), "sql", query, env=secret)
        assert result.returncode == 1, result.stdout
        assert result.stderr.startswith("newswatch: error: newswatch sql reads the warehouse "
                                        "only: no files, no network")
        assert len(result.stderr.strip().splitlines()) == 1
        assert "hunter2" not in result.stdout + result.stderr
    assert warehouse.read_bytes() == before


def test_sql_prints_at_most_max_rows_and_says_so(warehouse):
    result = _newswatch("--db", str(warehouse), "sql", "--format", "csv", "--max-rows", "3",
                        "SELECT * FROM range(10)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["range", "0", "1", "2"]
    assert "only the first 3 rows were printed" in result.stderr


def test_db_comes_from_the_environment(warehouse, tmp_path):
    result = _newswatch("sql", "--format", "csv", "SELECT count(*) AS n FROM articles",
                        cwd=tmp_path, env={"NEWSWATCH_DB": str(warehouse)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["n", "1"]


def test_sql_without_a_warehouse_says_what_to_do(tmp_path):
    result = _newswatch("--db", str(tmp_path / "none.duckdb"), "sql", "SELECT 1")
    assert result.returncode == 1
    assert "no warehouse at" in result.stderr and "Traceback" not in result.stderr


def test_the_readme_sql_examples_run_on_the_seeds(db_path):
    from conftest import SEEDS

    from newswatch.extractors.seeds import iter_seed_files, load_manifest, read_seed
    from newswatch.extractors.tagging import Tagger
    from newswatch.extractors.watchlist import load_watchlist
    from newswatch.warehouse.load import sync_entities
    from newswatch.warehouse.query import run_query

    tagger = Tagger(load_watchlist(SEEDS / "watchlist.toml"))
    manifest = load_manifest(SEEDS / "manifest.toml")
    articles = [read_seed(p, manifest.get(p.name)) for p in iter_seed_files(SEEDS)]
    articles = [replace(article, mentions=tuple(tagger.tag(article.text)))
                for article in articles]
    with connect(db_path) as con:
        sync_entities(con, tagger.watchlist)
        load(con, articles)
    examples = re.findall(r"```sql\n(.*?)```", README, re.S)
    assert len(examples) >= 3
    with connect(db_path, read_only=True) as con:
        results = [list(run_query(con, sql).rows) for sql in examples]
    top = results[0]
    assert top[0][0] == "Kazakhstan" and top[0][2] == 5  # in all five articles
    assert any("Tokayev" in sentence and "CSTO" in sentence for _, sentence in results[1])
    digest_day = next(i for i, sql in enumerate(examples) if "digest_stories" in sql)
    assert results[2] and results[digest_day]  # names vs demonyms; the digest day's stories
