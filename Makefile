# Benchmarks (not part of the test suite): bench/programme.py and bench/purchase.py say what they measure.
# Both need PostgreSQL on 127.0.0.1:5432 (user postgres, trust) and Redis on 127.0.0.1:6379 (they cache pages
# there, as production does: bench-programme in database 11, bench-purchase in 12, each of which is emptied).
# Pass options with ARGS, e.g.
#   make bench-programme ARGS="--only synthetic --sessions 2400"
#   make bench-purchase ARGS=--quick     # one shorter rush and a short loop: what CI runs

PYTHON ?= .venv/bin/python
ARGS ?=

.PHONY: bench bench-programme bench-purchase bench-admin bench-lighthouse css postgres redis

bench: bench-programme bench-purchase

bench-programme: $(PYTHON) postgres redis
	$(PYTHON) bench/programme.py --redis $(ARGS)

# The rush (200 buyers for 50 seats over two gunicorns, a task worker, Stripe answering in 400 ms), Stripe
# hanging, and purchases (bench/purchase.py).
bench-purchase: $(PYTHON) postgres redis
	$(PYTHON) bench/purchase.py $(ARGS)

# The orders list and the sales summary at 1k, 5k and 20k orders (bench/admin.py; target under 300 ms at 20k).
bench-admin: $(PYTHON) postgres
	$(PYTHON) bench/admin.py $(ARGS)

# Lighthouse's mobile performance audit of every public page, under runserver (DJANGO_DEBUG=1) and under gunicorn with
# the production settings: each must score 100 (bench/lighthouse.py). Needs Node.js and Chromium; installs the pinned
# Lighthouse into bench/lighthouse/node_modules the first time. Not part of `make bench`.
bench-lighthouse: $(PYTHON)
	$(PYTHON) bench/lighthouse.py $(ARGS)

# static/css/bootstrap-netroots.min.css, built from static/scss/bootstrap-netroots.scss (static/scss/build.mjs):
# commit both. CI checks the built file is up to date (npm run check:css).
css: node_modules/.package-lock.json
	npm run --silent build:css

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund --silent

# The virtual environment, made as dev.py makes it (from requirements-dev.lock).
$(PYTHON):
	python3 -c "import dev; dev.ensure_venv()"

postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL does not answer on 127.0.0.1:5432. Start it," \
		"e.g.: pg_ctlcluster --skip-systemctl-redirect \$$(ls /etc/postgresql) main start"; exit 1; }

redis:
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { echo "Redis does not answer on 127.0.0.1:6379. Start it," \
		"e.g.: redis-server --daemonize yes"; exit 1; }
