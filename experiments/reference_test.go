package experiments

import (
	"context"
	"os"
	"testing"
)

// TestReferenceVAE trains the reference MNIST VAE (784-400-20-400-784, batch
// 128, Adam 1e-3, grey-level MNIST, 10 epochs, PyTorch's Linear init) and
// checks the figure: test negative ELBO ≤ 106 nats. It takes a few
// minutes, so it runs only with VAEXP_LONG=1:
//
//	VAEXP_LONG=1 go test -run TestReferenceVAE -timeout 60m -v ./experiments/
func TestReferenceVAE(t *testing.T) {
	if os.Getenv("VAEXP_LONG") == "" {
		t.Skip("long training; set VAEXP_LONG=1")
	}
	init := os.Getenv("VAEXP_INIT")
	if init == "" {
		init = "pytorch"
	}
	spec := DefaultSpec()
	spec.Params = map[string]any{"init": init}
	spec.Eval.IWAEK = 0
	res, err := Run(context.Background(), spec, Options{DB: openDB(t), OutDir: t.TempDir(), Log: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	nelbo := res.Metrics["test/nelbo"]
	t.Logf("init %s: test negative ELBO after 10 epochs = %.2f nats; median step %s", init, nelbo, res.MedianStep)
	if init == "pytorch" && nelbo > 106 {
		t.Errorf("test negative ELBO %.2f > 106 nats", nelbo)
	}
}
