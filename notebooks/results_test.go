package notebooks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadResults(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(ResultsEnv, dir)
	csv := "id,name,metrics.eval/mig,tags.time/eval_disentanglement\n3,beta-vae-4,0.125,61\n4,\"a, b\",,\n"
	if err := os.WriteFile(filepath.Join(dir, "d.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := ReadResults("d.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Rows) != 2 || r.Rows[1]["name"] != "a, b" || r.Rows[0]["metrics.eval/mig"] != "0.125" {
		t.Fatalf("records %+v", r)
	}
	tb := r.Table("scores", "name", "metrics.eval/mig", "id")
	tb.Digits = 3
	h := tb.HTML()
	for _, want := range []string{">mig<", ">0.125<", ">3<", ">–<"} {
		if !strings.Contains(h, want) {
			t.Errorf("table lacks %q:\n%s", want, h)
		}
	}
	if _, err := ReadResults("missing.csv"); err == nil || !strings.Contains(err.Error(), "bench/README.md") {
		t.Errorf("missing file: %v", err)
	}
	if Cell(" 7 ") != int64(7) || Cell("") != nil || Cell("x") != "x" || Cell("1e-3") != 0.001 {
		t.Error("Cell parses wrongly")
	}
}
