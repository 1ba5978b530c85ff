# vaexp needs Go 1.27.3 (gomlx v0.28.16) and the SIMD experiment (without it
# the pure-Go backend runs ~12x slower). Machines whose Go is older fetch
# go1.27.3 through the module proxy on first use (~76 MB, once).
export GOTOOLCHAIN := go1.27.3
export GOEXPERIMENT := simd

GO      ?= go
BIN     := bin/vaexp
OUT     ?= out
DB      ?= vaexp.db

.PHONY: all build quickstart test test-avx2 test-long bench classifier clean notebook-install notebooks

all: build

build:
	$(GO) build -o $(BIN) ./cmd/vaexp

## quickstart: a short real training on MNIST, recorded in $(DB), with curves and a sample grid in $(OUT)/.
quickstart: build
	mkdir -p $(OUT)
	$(BIN) --db $(DB) train --model vae --epochs 3 --iwae-k 50 --name quickstart
	$(BIN) --db $(DB) plot last --out $(OUT)/curves.png
	$(BIN) --db $(DB) samples last --out $(OUT)/samples.png
	$(BIN) --db $(DB) samples last --artifact reconstructions.png --out $(OUT)/reconstructions.png
	@echo "wrote $(OUT)/curves.png $(OUT)/samples.png $(OUT)/reconstructions.png; runs in $(DB): $(BIN) --db $(DB) runs list"

## test: vet, every Go test (unit, end-to-end CLI, tracker), then the notebooks executed headless
## in a real Jupyter kernel (notebooks/ci.sh installs the kernel and Jupyter's packages when missing).
test:
	$(GO) vet ./...
	$(GO) test -timeout 40m ./...
	notebooks/ci.sh

## test-avx2: the model tests again on the Go backend's AVX2 kernels (what CPUs without AVX-512 run);
## floats differ from the AVX-512 path in the last bits. CI runs it after `test`.
test-avx2:
	GOMLX_GO_SIMD_AVX512=false $(GO) test -count=1 -timeout 30m ./vae/... ./variants/... ./experiments/...

## notebook-install: build GoNB and register the gonb kernel for this checkout (once; idempotent).
notebook-install:
	notebooks/install.sh

## notebooks: execute every notebook headless (VAEXP_SMOKE=1 budgets), as CI does.
notebooks:
	notebooks/ci.sh

## test-long: adds the 10-epoch reference VAE (test negative ELBO <= 106 nats).
test-long:
	VAEXP_LONG=1 $(GO) test -timeout 90m -run 'TestReference' -v ./experiments/

## classifier: train (if missing or damaged) and check the MNIST classifier behind FID-LeNet and IS,
## cached in the user cache dir (about two minutes once; `vaexp eval` also builds it on first use).
classifier:
	$(GO) test -count=1 -run 'TestClassifierAccuracy' -v ./experiments/eval/

## bench: training-step and epoch benchmarks.
bench:
	$(GO) test -run xxx -bench . -benchtime 3x ./experiments/ ./tracker/

clean:
	rm -rf bin $(OUT)
