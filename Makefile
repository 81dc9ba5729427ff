# Everything a user or CI needs, from a fresh clone with only the package registries reachable.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
Q      ?= What did Barrot demand?

# Models load from local folders only: never wait on a model hub.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup index chat ask eval eval-dev test bench clean

setup: $(VENV)/.installed

# torch is pinned (==2.13.0 in pyproject) so pip takes the local CPU build, not a multi-GB CUDA one.
# llama-cpp-python builds from source the first time (about 6 minutes on 2 cores); pip caches the wheel.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

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

test: setup
	$(BIN)/python -m pytest -q

bench: setup index/current/manifest.json
	$(BIN)/python scripts/bench.py

clean:
	rm -rf index/current index/build-* .pytest_cache
