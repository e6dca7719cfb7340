# The two commands of the set-up contract: `make run` and `make test`.
VENV    := .venv
PYTHON  ?= python3
FLASK   := $(VENV)/bin/flask --app wsgi
APT_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core \
                chromium poppler-utils

PIP_TOOLS := pip-tools==7.7.0

.PHONY: run test lock conformance bench system-packages clean screenshots

# Every direct and transitive dependency is pinned in requirements.lock (made from requirements.txt and
# requirements-test.txt by `make lock`); `make run` and `make test` install exactly that set.
$(VENV)/.installed: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r requirements.lock
	touch $@

## run: create .venv, migrate instance/registry.db, load demo data when empty, serve on 127.0.0.1:5000
run: $(VENV)/.installed
	$(FLASK) bootstrap
	$(VENV)/bin/gunicorn --bind 127.0.0.1:5000 --workers 1 --threads 8 --no-control-socket --access-logfile - wsgi:app

## system-packages: as root, the Debian packages tests need (WeasyPrint's pango/harfbuzz, chromium, poppler)
system-packages:
	@if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then echo "installing:$$missing"; apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi; \
	else echo "not root: make sure these Debian packages are installed: $(APT_PACKAGES)"; fi

# axe-core for the browser tests' accessibility check, pinned in tests/e2e/package-lock.json (npm registry).
E2E_NODE := tests/e2e/node_modules/.installed
$(E2E_NODE): tests/e2e/package-lock.json
	cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## test: install what tests need, then run the suite (SQLite, and PostgreSQL from TEST_DATABASE_URL or a throwaway cluster)
test: $(VENV)/.installed system-packages $(E2E_NODE)
	$(VENV)/bin/pytest -q -p no:cacheprovider

## screenshots: run the browser tests of every screen (each role, 1280x800), copy their screenshots to docs/images/screens/ (256 colours)
SCREEN_TESTS := tests/e2e/test_accessibility.py tests/e2e/test_work_screens.py
screenshots: $(VENV)/.installed system-packages $(E2E_NODE)
	rm -rf test-artifacts/screens
	$(VENV)/bin/pytest -q -p no:cacheprovider $(SCREEN_TESTS)
	$(VENV)/bin/python docs/copy_screenshots.py test-artifacts/screens docs/images/screens

## lock: refresh requirements.lock on purpose (newest versions the loose requirements allow), sync .venv, run the suite
lock: $(VENV)/.installed
	$(VENV)/bin/pip install --quiet $(PIP_TOOLS)
	$(VENV)/bin/pip-compile --quiet --upgrade --no-emit-index-url --no-emit-find-links --strip-extras --allow-unsafe \
	  --output-file requirements.lock requirements-test.txt
	$(VENV)/bin/pip-sync --quiet requirements.lock
	touch $(VENV)/.installed
	$(MAKE) test

## bench: the timing scripts of bench/ (figures go to docs/benchmarks.md)
bench: $(VENV)/.installed
	$(VENV)/bin/python bench/bench_demo_data.py

clean:
	rm -rf $(VENV) .pytest_cache
