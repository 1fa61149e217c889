# The two commands: `make run` (set up, load demo data, serve on http://127.0.0.1:5000) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: run serve test install system-deps lint format i18n bench load clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

install: $(BIN)/.installed system-deps

# The monthly reports' PDF (WeasyPrint) needs Pango and a CJK font from Debian; without them the reports are still
# made and their pages work, the PDF link says why it is missing. Installed here when apt-get is at hand.
PDF_DEBS := libpango-1.0-0 libpangoft2-1.0-0 fonts-wqy-microhei
system-deps:
	@need=""; \
	ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so.0' || need="$$need libpango-1.0-0"; \
	ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0' || need="$$need libpangoft2-1.0-0"; \
	fc-list 2>/dev/null | grep -qi 'wenquanyi micro hei' || need="$$need fonts-wqy-microhei"; \
	if [ -n "$$need" ]; then \
	  if command -v apt-get >/dev/null; then \
	    echo "== installing$$need (monthly report PDFs)"; \
	    if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$need >/dev/null \
	      || echo "!! could not install$$need: monthly reports will have no PDF"; \
	  else echo "!! missing$$need (Debian names): monthly reports will have no PDF"; fi; \
	fi

run: install
	$(FLASK) db upgrade
	$(FLASK) demo load --if-empty
	$(FLASK) stats rebuild --if-missing
	$(FLASK) search reindex
	@# the market's clock runs beside the web server (closing bidding, ending publicity, deadline lights …)
	$(FLASK) clock --quiet & CLOCK=$$!; trap 'kill $$CLOCK 2>/dev/null' EXIT INT TERM; \
	  $(FLASK) run --host 127.0.0.1 --port 5000

# Production on one machine or many: gunicorn workers against DATABASE_URL (PostgreSQL for more than one worker)
# plus the market's clock (which also builds a missing search index). Needs SECRET_KEY; WORKERS, THREADS and BIND may be given (make serve WORKERS=4).
# Without WORKERS, marketplace/serving.py's count: 2 × cores + 1 sync workers (THREADS=1), at most 9 — one request
# at a time per worker process: a worker's threads share one GIL, so a thread back from the database waited for its
# neighbours' rendering, and a kept-alive connection stays with the worker that accepted it however busy that one is
# (README, Load test, session 22). The sync worker keeps no connection alive and expects a buffering proxy in front
# (nginx), as TLS needs anyway.
WORKERS ?=
THREADS ?= 1
BIND ?= 127.0.0.1:8000
serve: install
	@test -n "$$SECRET_KEY" || { echo "make serve: set SECRET_KEY (and DATABASE_URL) first; see README, Production"; exit 1; }
	MARKET_ENV=production $(FLASK) db upgrade
	MARKET_ENV=production $(FLASK) stats rebuild --if-missing
	MARKET_ENV=production $(FLASK) clock --quiet & CLOCK=$$!; trap 'kill $$CLOCK 2>/dev/null' EXIT INT TERM; \
	  MARKET_ENV=production $(BIN)/gunicorn -c python:marketplace.serving $(if $(WORKERS),-w $(WORKERS) )--threads $(THREADS) -b $(BIND) wsgi:app

test: install
	bash tests/run.sh

lint: install
	$(BIN)/ruff check marketplace tests bench migrations/versions
	$(BIN)/ruff format --check marketplace tests bench
	$(BIN)/lint-imports --no-logo

format: install
	$(BIN)/ruff check --fix marketplace tests bench
	$(BIN)/ruff format marketplace tests bench

# Re-extract UI strings, merge them into the zh_Hans catalogue, compile (translate new entries in between).
# tests/unit/test_translations.py uses the same extraction options.
i18n: install
	$(BIN)/pybabel extract -F marketplace/translations/babel.cfg \
	  -k _l -k N_ -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2 -k page_gettext \
	  --ignore-dirs ".* __pycache__ node_modules" --no-location --sort-output \
	  --project marketplace --copyright-holder "中介超市" -o marketplace/translations/messages.pot .
	$(BIN)/pybabel update -i marketplace/translations/messages.pot -d marketplace/translations -l zh_Hans --ignore-obsolete
	$(BIN)/pybabel compile -d marketplace/translations -l zh_Hans --statistics

# The load test (README, "Load test"): a generated market on PostgreSQL (LOAD_DATABASE_URL, default a database
# h7_load on 127.0.0.1:5433), gunicorn as `make serve` runs it (2 × cores + 1 sync workers, at most 9) + the clock, Locust -u 50 -r 10 -t 120s (after a 20 s warm-up) on loopback.
load: install
	$(BIN)/python -m bench.load

# The benchmark (bench/market.py): build a generated market, then time every public page beside /healthz.
# make bench AGENCIES=100000 ORDERS=1000000 [RATINGS=750000] [DATABASE=postgresql+psycopg://…/mp_bench] [FOLDER=…]
AGENCIES ?= 20000
ORDERS ?= 200000
bench: install
	$(BIN)/python -m bench.market all --agencies $(AGENCIES) --orders $(ORDERS) \
	  $(if $(RATINGS),--ratings $(RATINGS)) $(if $(DATABASE),--database $(DATABASE)) $(if $(FOLDER),--folder $(FOLDER))

clean:
	rm -rf $(VENV) instance .pytest_cache tests/_artifacts
