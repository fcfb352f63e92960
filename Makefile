# newswatch: `make demo` and `make test` work on a fresh clone with nothing installed.
# Both create the virtual environment in .venv when it is missing or stale.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test test-fast chromium lint fuzz bench bench-digest eval-stories eval-pages screenshots pins clean

$(STAMP): pyproject.toml requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

## demo: the whole pipeline, offline, on the seed articles; writes today's digest
demo: $(STAMP)
	$(VENV)/bin/newswatch demo

## test: the test suite (what CI runs); installs Debian's chromium for the screenshot tests
test: $(STAMP) chromium
	$(PY) -m pytest -n 2 --dist loadfile

## test-fast: the suite without the tests marked slow (servers, workers, kills): a few minutes
test-fast: $(STAMP) chromium
	$(PY) -m pytest -n 2 --dist loadfile -m "not slow"

# The digest's screenshot tests render its HTML in Debian's headless Chromium:
# installed from apt when missing (as root, else through sudo).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium (apt) for the digest's screenshot tests"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	  $$sudo apt-get install -y -q chromium >/dev/null \
	  || { $$sudo apt-get update -q >/dev/null && $$sudo apt-get install -y -q chromium >/dev/null; }; }

## lint: ruff over the code and the tests
lint: $(STAMP)
	$(VENV)/bin/ruff check newswatch extractors warehouse flows digest deployments benchmarks tests

## fuzz: hypothesis over what reads outside input, thousands of inputs each (not part of make test)
fuzz: $(STAMP)
	NEWSWATCH_FUZZ_PROFILE=fuzz $(PY) -m pytest -q -s tests/test_fuzz.py

## bench: throughput of ingest urls against a bare loop (not part of make test): N pages, RUNS runs
bench: $(STAMP)
	$(PY) -m benchmarks.ingest_urls --n $(or $(N),2000) --runs $(or $(RUNS),3) --corpus $(or $(CORPUS),real)

## bench-digest: one day's digest (against plain SQL) and a 100k-article load on a year of news
## (1M articles); LOAD=0 times the digest alone
bench-digest: $(STAMP)
	$(PY) -m benchmarks.digest --articles $(or $(ARTICLES),1000000) \
	  --mentions $(or $(MENTIONS),10000000) --load $(or $(LOAD),100000) --runs $(or $(RUNS),3)

## eval-stories: story grouping on the labelled development set (not part of make test);
## GIVEME is the news_cluster/data_raw folder of a Giveme5W1H copy (see benchmarks/stories_eval.py)
eval-stories: $(STAMP)
	$(PY) -m benchmarks.stories_eval --giveme $(GIVEME)

## eval-pages: article or not, and metadata, on labelled real pages (not part of make test);
## PAGES is the folder of the labelled pages, TRAFILATURA a checkout of adbar/trafilatura
eval-pages: $(STAMP)
	$(PY) -m benchmarks.pages_eval $(if $(PAGES),--pages $(PAGES)) \
	  $(if $(TRAFILATURA),--trafilatura $(TRAFILATURA))

## screenshots: render the digest in headless Chromium and refresh docs/digest-*.png
screenshots: $(STAMP)
	NEWSWATCH_UPDATE_SCREENSHOTS=1 $(PY) -m pytest -q tests/test_digest_screenshots.py

## pins: refresh requirements.txt from the current environment (no URLs, no hashes)
pins: $(STAMP)
	( echo "# Exact versions that install and pass here. Refresh: make pins"; \
	  $(PY) -m pip freeze --all --exclude-editable | grep -vE "^(newswatch|pip)==" ) > requirements.txt

clean:
	rm -rf $(VENV) data digests .pytest_cache
