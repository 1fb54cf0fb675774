# Every target bootstraps .venv itself, so a fresh clone needs nothing but python3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint format bench bench-postgres demo clean chromium binary css

run: $(VENV)/.installed
	$(BIN)/customer-groups run

# The tests run in one process per core (pytest-xdist); each test file stays in one process, so a
# file's app and browser (tests/e2e) start once. `pytest` alone runs them in one process.
test: $(VENV)/.installed-test chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest --numprocesses auto --dist loadfile

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Every benchmark, then one table of their headline figures beside their baselines (bench/__main__.py).
bench: $(VENV)/.installed-test chromium
	$(BIN)/python -m bench

# The benchmarks that run on PostgreSQL, on a server of their own (bench/postgres keeps its data in
# bench/.data/ so each shop is loaded once).
bench-postgres: $(VENV)/.installed-test
	bench/postgres $(BIN)/python -m bench

# One file, dist/customer-groups, that runs the app and its subcommands without Python. PyInstaller
# is called directly (nicegui-pack cannot pass hidden imports): modules named only by strings (the
# ORM's database backends, our models and their migrations, NiceGUI's lazily loaded elements) are
# listed here. PyInstaller's own work files stay in build/.
binary: $(VENV)/.installed-binary
	$(BIN)/pyinstaller --noconfirm --clean --onefile --name customer-groups --log-level WARN \
		--distpath dist --workpath build/pyinstaller --specpath build/pyinstaller --paths "$(CURDIR)" \
		--add-data "$$($(BIN)/python -c 'import nicegui, os; print(os.path.dirname(nicegui.__file__))'):nicegui" \
		--copy-metadata nicegui --collect-submodules nicegui \
		--hidden-import tortoise.backends.sqlite --hidden-import tortoise.backends.asyncpg \
		--hidden-import services.storage.postgres_folding \
		--collect-submodules models \
		--add-data "$(CURDIR)/ui/styles/tailwind.css:ui/styles" \
		packaging/customer_groups_binary.py
	@ls -l dist/customer-groups

# The pages' Tailwind classes, built ahead of time into ui/styles/tailwind.css (see ui/stylesheet.py).
# Run it after adding or changing a class in ui/; needs Node.js and the npm registry.
css:
	cd ui/styles && npm ci --no-audit --no-fund --loglevel=error
	ui/styles/node_modules/.bin/tailwindcss -i ui/styles/tailwind.input.css -o ui/styles/tailwind.css --minify

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.created
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test,postgres]'
	touch $@

$(VENV)/.installed-binary: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[binary,postgres]'
	touch $@

# The end-to-end tests drive a real Chromium. Debian's package is preferred; Playwright's own
# download is the fallback where apt-get is not available.
chromium: $(VENV)/.installed-test
	@if command -v chromium >/dev/null 2>&1; then \
		echo "chromium: $$(command -v chromium)"; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null; \
		echo "chromium: installed $$(command -v chromium)"; \
	else \
		$(BIN)/python -m playwright install chromium; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build dist
