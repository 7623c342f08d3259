# Two commands do all the set-up: `make run` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
# Two workers: the machines here have two cores.
PYTEST_ARGS ?= -n 2
# Debian packages the test suite needs: the browser for the journeys, HarfBuzz for PDF fonts;
# wrk, the load generator of make bench; gettext, whose xgettext the translation tests run
# (makemessages) to find every string that needs a translation.
SYSTEM_PACKAGES := chromium libharfbuzz-subset0 fonts-dejavu-core poppler-utils wrk gettext

.PHONY: install install-dev messages catalogues run serve serve-env test fuzz lint bench system-packages clean

$(VENV)/.installed: requirements.txt
	@test -x $(PY) || { echo "Creating the virtual environment in $(VENV) ..."; $(PYTHON) -m venv $(VENV); }
	@echo "Installing what the app needs (requirements.txt) ..."
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	@echo "Installing what the tests and checks need (requirements-dev.txt) ..."
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed messages

install-dev: $(VENV)/.installed-dev node_modules/.installed messages

# The translation catalogues (locale/<language>/LC_MESSAGES/*.po) compiled to the .mo files that
# Django reads, by Babel (requirements.txt), so that no system package is needed; each again
# whenever its .po changes. The .mo files are not committed (.gitignore).
CATALOGUES := $(wildcard locale/*/LC_MESSAGES/*.po)
messages: $(CATALOGUES:.po=.mo)

# After changing the interface's strings: extract them into every catalogue (gettext's xgettext),
# then translate what is new; tests/i18n checks that nothing is left untranslated.
catalogues: install
	$(PY) manage.py makemessages --all --add-location file --no-obsolete \
	  --ignore .venv --ignore node_modules --ignore tests --ignore scripts --ignore staticfiles \
	  --ignore media --ignore docs --ignore content --ignore vendor

locale/%.mo: locale/%.po $(VENV)/.installed
	$(PY) -m babel.messages.frontend compile --statistics -i $< -o $@
	@test -f $@ || { echo "$<: not compiled (is its header marked fuzzy?)" >&2; exit 1; }

# HL7's FHIR R4 JSON schema, which the tests validate the FHIR export against (package.json):
# from the npm registry, exactly as locked, no install scripts run.
node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# CONSENT_DEMO=1 installs the demo app (setup_demo, seed_demo), which a deployment leaves out.
run: install
	DEBUG=1 CONSENT_DEMO=1 $(PY) manage.py migrate --noinput
	DEBUG=1 CONSENT_DEMO=1 $(PY) manage.py import_pack content/*.toml
	DEBUG=1 CONSENT_DEMO=1 $(PY) manage.py create_seal_key
	DEBUG=1 CONSENT_DEMO=1 CONSENT_ALLOW_UNREVIEWED_CONTENT=1 $(PY) manage.py setup_demo --base-url http://$(HOST):$(PORT)
	@echo "Starting the record worker (manage.py db_worker: it draws and seals finalized records) ..."
	DEBUG=1 CONSENT_DEMO=1 CONSENT_ALLOW_UNREVIEWED_CONTENT=1 $(PY) manage.py db_worker --interval 0.5 --verbosity 0 --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	DEBUG=1 CONSENT_DEMO=1 CONSENT_ALLOW_UNREVIEWED_CONTENT=1 SITE_URL=http://$(HOST):$(PORT) $(PY) manage.py runserver $(HOST):$(PORT)

# The application as deployed (docs/deployment.md): gunicorn, static files by whitenoise,
# PostgreSQL only (DATABASE_URL). Static files are collected and the database migrated first;
# with MIGRATE_DATABASE_URL (the schema owner) migrate runs as the owner and grants the
# application's role (DATABASE_URL's user) what it needs. Behind a TLS proxy; WORKERS per server.
# One record worker (manage.py db_worker) runs beside gunicorn: finalization's drawing and sealing
# are background tasks, and any server's worker takes any server's task (one shared database).
# No control socket: its one default path in the home folder would be shared by two servers.
WORKERS ?= 2
serve: serve-env install
	$(PY) manage.py check --deploy
	$(PY) manage.py collectstatic --noinput --verbosity 0
	DATABASE_URL="$${MIGRATE_DATABASE_URL:-$$DATABASE_URL}" $(PY) manage.py migrate --noinput
	@if [ -n "$$MIGRATE_DATABASE_URL" ]; then \
	  role=$$($(PY) -c 'import os, dj_database_url; print(dj_database_url.parse(os.environ["DATABASE_URL"])["USER"])'); \
	  echo "Granting the application role $$role ..."; \
	  DATABASE_URL="$$MIGRATE_DATABASE_URL" $(PY) manage.py grant_app_role "$$role"; \
	fi
	@echo "Starting the record worker (manage.py db_worker) beside gunicorn ..."
	$(PY) manage.py db_worker --interval 1 --verbosity 0 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(VENV)/bin/gunicorn consent_site.wsgi --bind $(HOST):$(PORT) --workers $(WORKERS) \
	  --timeout 120 --graceful-timeout 30 --max-requests 1000 --max-requests-jitter 100 \
	  --no-control-socket

# make serve refuses to start without PostgreSQL, before installing anything.
serve-env:
	@case "$$DATABASE_URL" in \
	  postgres://*|postgresql://*|pgsql://*) ;; \
	  "") echo "make serve: DATABASE_URL is not set. It serves on PostgreSQL only:" \
	       "DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/NAME make serve (docs/deployment.md)." >&2; \
	      exit 2 ;; \
	  *) echo "make serve: DATABASE_URL is not a PostgreSQL URL (postgres://...). It serves on" \
	       "PostgreSQL only; make run is the development server on SQLite (docs/deployment.md)." >&2; \
	     exit 2 ;; \
	esac

# Installs what the browser tests need when run as root; otherwise says what will be skipped.
system-packages:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing system packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "NOTE: missing system packages: $$missing (run 'make test' as root to install them)."; \
	    echo "NOTE: without chromium the browser tests (marked 'browser') are skipped."; \
	  fi; \
	fi

test: install-dev system-packages
	$(PY) -m pytest $(PYTEST_ARGS)

# The fuzz campaign: 500 generated inputs per form and upload (tests/fuzz), figures per form
# at the end. `make test` runs the same tests with 30 inputs each.
fuzz: install-dev
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-500} $(PY) -m pytest $(PYTEST_ARGS) tests/fuzz

# Timings are measured here, never asserted in tests. Every figure of issue 13 as a ratio to a
# floor measured in the same run (RATIO lines), raw medians in bench-results.json; gunicorn
# and wrk (a system package) on a throwaway SQLite file and PostgreSQL database
# (BENCH_DATABASE_URL's server). BENCH_ARGS=--quick for a smoke run. Methods: scripts/bench/.
BENCH_ARGS ?=
bench: install-dev system-packages
	$(PY) -W ignore -m scripts.bench $(BENCH_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
