# The two commands the README promises: `make demo` and `make test`. Both build what they need
# from nothing: a venv with exact pins (constraints.txt), onnxruntime-web via `npm ci`, a browser.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip install --quiet --constraint constraints.txt
CHROMIUM := /usr/bin/chromium

.PHONY: demo test env web browser models bench clean wheel

demo: env web
	$(BIN)/latent-explorer demo

test: env web browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

env: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) torch==2.13.0   # first, alone: the CPU wheel, never the CUDA build
	$(PIP) -e '.[test]'
	touch $@

web: web/node_modules/.package-lock.json
web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund

# Debian's Chromium where we may install it (CI, this kind of machine: Playwright cannot download
# its own browser there); otherwise Playwright's own Chromium, as on a laptop.
browser: env
	@if [ -x $(CHROMIUM) ] || [ -n "$$LATENT_EXPLORER_CHROMIUM" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else $(BIN)/playwright install chromium; fi

# The shipped bundles, reproducibly: each target retrains from scratch (fixed seeds) and exports
# over the committed bundle only if the export gate passes.
# The seed's question: does brightness made orthogonal to height stop changing height? (README)
FOOTWEAR := --classes "Sandal,Sneaker,Ankle boot" --attribute height --attribute brightness --orthogonalize height,brightness
MODELS := models/digits models/fashion-mnist models/fashion-mnist-small models/wordnet-sentences models/shapes
models: $(MODELS)
models/digits: env
	rm -rf build/runs/digits
	$(BIN)/latent-explorer train --dataset digits --epochs 150 --out build/runs/digits
	$(BIN)/latent-explorer export build/runs/digits --out $@
	$(BIN)/latent-explorer directions $@ --attribute area --attribute brightness --attribute x --attribute y \
	  --class-mean 1:0 --orthogonalize area,brightness --examples 1000
models/fashion-mnist: env
	rm -rf build/runs/fashion-mnist
	$(BIN)/latent-explorer train --dataset fashion-mnist --arch conv --epochs 30 \
	  --batch-size 128 --out build/runs/fashion-mnist
	$(BIN)/latent-explorer export build/runs/fashion-mnist --out $@
	$(BIN)/latent-explorer directions $@ $(FOOTWEAR) --class-mean "boot-vs-sneaker=Ankle boot:Sneaker" --examples 1000
# A second, smaller FashionMNIST model (z = 6, half the channels): its directions are fitted on it
# and carried over from the committed models/fashion-mnist (`make models` builds that one first).
models/fashion-mnist-small: env
	rm -rf build/runs/fashion-mnist-small
	$(BIN)/latent-explorer train --dataset fashion-mnist --arch conv --latent-size 6 --channels 16 \
	  --hidden 128 --epochs 30 --batch-size 128 --out build/runs/fashion-mnist-small
	$(BIN)/latent-explorer export build/runs/fashion-mnist-small --out $@
	$(BIN)/latent-explorer directions $@ $(FOOTWEAR) --from models/fashion-mnist --examples 1000
models/shapes: env
	rm -rf build/runs/shapes
	$(BIN)/latent-explorer train --dataset shapes --arch conv --latent-size 8 --epochs 20 --out build/runs/shapes
	$(BIN)/latent-explorer export build/runs/shapes --out $@
	$(BIN)/latent-explorer directions $@ --attribute area --attribute x --attribute y \
	  --class-mean circle-vs-square=circle:square --orthogonalize area,circle-vs-square --examples 1000
models/wordnet-sentences: env
	rm -rf build/runs/wordnet-sentences
	$(BIN)/latent-explorer train --dataset wordnet --word-dropout 0.15 --free-bits 0.75 --epochs 15 --out build/runs/wordnet-sentences
	$(BIN)/latent-explorer export build/runs/wordnet-sentences --out $@ --variant loop --weights int8
.PHONY: $(MODELS)

# A wheel that carries the element and the onnxruntime-web files it loads (see pyproject.toml).
wheel: env web
	$(BIN)/pip wheel --no-deps --no-build-isolation --quiet -w dist .
	@ls dist/*.whl

bench: env web browser
	$(BIN)/python benchmarks/runtime.py --modes

clean:
	rm -rf build dist .pytest_cache
