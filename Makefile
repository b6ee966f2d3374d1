# Benchmarks (not part of the test suite): bench/programme.py and bench/purchase.py say what they measure.
# Both need PostgreSQL on 127.0.0.1:5432 (user postgres, trust). Pass options with ARGS, e.g.
#   make bench-programme ARGS="--only demo"

PYTHON ?= .venv/bin/python
ARGS ?=

.PHONY: bench bench-programme bench-purchase postgres

bench: bench-programme bench-purchase

bench-programme: $(PYTHON) postgres
	$(PYTHON) bench/programme.py $(ARGS)

bench-purchase: $(PYTHON) postgres
	$(PYTHON) bench/purchase.py $(ARGS)

# The virtual environment, made as dev.py makes it (from requirements-dev.lock).
$(PYTHON):
	python3 -c "import dev; dev.ensure_venv()"

postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL does not answer on 127.0.0.1:5432. Start it," \
		"e.g.: pg_ctlcluster --skip-systemctl-redirect \$$(ls /etc/postgresql) main start"; exit 1; }
