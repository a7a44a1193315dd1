# plan-kb: one entry point. `make run` starts the app; `make test` runs every test and the eval gate.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export HF_HUB_OFFLINE = 1
export TOKENIZERS_PARALLELISM = false
# One embedding cache for the tests, the eval harness and the app: every text is embedded once.
export KB_EMBED_CACHE ?= $(CURDIR)/.kb/embeddings.sqlite

.PHONY: run install install-dev browser-deps test test-fast eval bench clean-kb

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e '.[llm]'

install-dev: $(BIN)/python
	$(BIN)/pip install -q -e '.[dev,st,llm]'

# Debian's chromium and a CJK font for the browser test (never a downloaded browser).
browser-deps:
	@if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi 'noto.*cjk'; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	elif command -v sudo >/dev/null 2>&1; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	else echo "没有 root 权限，无法安装 chromium 与 fonts-noto-cjk：浏览器测试将被跳过 / browser tests will be skipped"; fi

# Builds the knowledge base on first start (progress bars), then serves http://127.0.0.1:7860
run: install
	$(BIN)/python -m app

# Every test (pytest's exit code 5, "no tests ran", is a failure), then the quality gate.
test: install-dev browser-deps
	@$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest ran no tests: failing"; exit 1; fi; exit $$rc
	$(BIN)/python -m eval --split all --gate

test-fast: install-dev
	$(BIN)/python -m pytest -m "unit"

eval: install
	$(BIN)/python -m eval --split all

bench: install
	$(BIN)/python -m bench

clean-kb:
	rm -rf .kb
