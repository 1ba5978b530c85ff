package notebooks

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vaexp/vaexp/plots"
	"github.com/vaexp/vaexp/tracker"
)

func TestBudget(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want int
	}{{"", 10}, {"0", 10}, {"1", 1}, {"yes", 1}} {
		t.Setenv(SmokeEnv, tc.env)
		if got := Budget(10, 1); got != tc.want {
			t.Errorf("%s=%q: Budget(10, 1) = %d, want %d", SmokeEnv, tc.env, got, tc.want)
		}
	}
}

func TestPaths(t *testing.T) {
	t.Setenv(tracker.EnvDB, "")
	t.Setenv(RunsEnv, "")
	t.Setenv("GONB_DIR", "/nb")
	if got := DBPath(); got != "/nb/vaexp.db" {
		t.Errorf("DBPath() = %q, want the notebook's folder", got)
	}
	if got := RunsDir(); got != "/nb/runs" {
		t.Errorf("RunsDir() = %q, want runs beside the database", got)
	}
	t.Setenv(tracker.EnvDB, "/tmp/x/ci.db")
	if got := RunsDir(); got != "/tmp/x/runs" {
		t.Errorf("RunsDir() with %s set = %q", tracker.EnvDB, got)
	}
	t.Setenv(RunsEnv, "/r")
	if got := RunsDir(); got != "/r" {
		t.Errorf("RunsDir() with %s set = %q", RunsEnv, got)
	}
}

func TestLatestRun(t *testing.T) {
	db, err := tracker.Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := func(exp, name, status string) int64 {
		rec, err := db.StartRun(tracker.RunInfo{Experiment: exp, Name: name, Family: "vae"})
		if err != nil {
			t.Fatal(err)
		}
		if err := rec.Finish(status, nil); err != nil {
			t.Fatal(err)
		}
		return rec.RunID()
	}
	start("nb", "vae", "finished")
	want := start("nb", "vae", "finished")
	start("nb", "vae", "failed")
	start("other", "vae", "finished")
	start("nb", "it's", "finished")
	if got, err := LatestRun(db, "nb", "vae"); err != nil || got != want {
		t.Errorf("LatestRun = %d, %v; want run %d (the newest finished one)", got, err, want)
	}
	if _, err := LatestRun(db, "nb", "it's"); err != nil {
		t.Errorf("a name with a quote: %v", err)
	}
	if _, err := LatestRun(db, "nb", "ae"); err == nil || !strings.Contains(err.Error(), "training cell") {
		t.Errorf("missing run: error %v, want one that says to run the training cell", err)
	}
}

func TestTableHTML(t *testing.T) {
	tb := Table{Caption: "a <b>", Header: []string{"family", "nelbo", "steps"}, Best: []bool{false, true}}
	tb.AddRow("vae", 101.26, 300)
	tb.AddRow("ae & co", math.NaN(), 300)
	tb.AddRow("cvae", 99.0, nil)
	h := tb.HTML()
	for _, want := range []string{
		"a &lt;b&gt;", "ae &amp; co", // escaped
		`text-align:left">family`, `text-align:right">nelbo`, // text left, numbers right, headers too
		`text-align:right">101.3<`, // one decimal by default
		`text-align:right">–<`,     // NaN and nil cells
		"<b>99.0</b>",              // the best (smallest) value of a Best column
		`text-align:right">300<`,   // ints as ints
	} {
		if !strings.Contains(h, want) {
			t.Errorf("table HTML lacks %q:\n%s", want, h)
		}
	}
	if strings.Count(h, "<b>") != 2 { // the caption and the best cell
		t.Errorf("want exactly one bold cell:\n%s", h)
	}
}

func TestProject2D(t *testing.T) {
	// Points on a line in 3-D: the first component holds all the variance,
	// and distances along it are kept.
	var codes [][]float32
	for i := 0; i < 10; i++ {
		s := float32(i)
		codes = append(codes, []float32{s, 2 * s, -s})
	}
	xs, ys, explained, err := Project2D(codes)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(explained-1) > 1e-9 {
		t.Errorf("explained variance %v, want 1", explained)
	}
	if d := math.Abs(xs[9] - xs[0]); math.Abs(d-9*math.Sqrt(6)) > 1e-9 {
		t.Errorf("first component spans %v, want %v", d, 9*math.Sqrt(6))
	}
	for i := range ys {
		if math.Abs(ys[i]-ys[0]) > 1e-9 {
			t.Fatalf("second component varies: %v", ys)
		}
	}
	flat := [][]float32{{1, 2}, {3, 4}, {5, 7}}
	xs, ys, _, err = Project2D(flat)
	if err != nil || xs[2] != 5 || ys[2] != 7 {
		t.Errorf("2-D codes should pass through: %v %v %v", xs, ys, err)
	}
	if _, _, _, err := Project2D(flat[:2]); err == nil {
		t.Error("2 codes: no error")
	}
}

func TestLivePlotDraws(t *testing.T) {
	// Outside a notebook nothing is shown, but the figure is still drawn.
	l := NewLivePlot("test", "recon", "kl")
	for i := 1; i <= 300; i++ {
		l.Step(i, map[string]float64{"recon": 200 - float64(i)/3, "kl": 5 + float64(i)/30})
	}
	if err := l.Done(); err != nil {
		t.Fatal(err)
	}
	p, err := plots.Curves([]plots.Series{{Name: "a", X: []float64{1, 2}, Y: []float64{1, 2}}}, plots.CurveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	png, err := PlotPNG(p, 2, 1)
	if err != nil || !strings.HasPrefix(string(png), "\x89PNG") {
		t.Fatalf("PlotPNG: %d bytes, %v", len(png), err)
	}
}

// notebook is the part of the .ipynb format the checks below read.
type notebook struct {
	Metadata struct {
		Kernelspec struct{ Name string } `json:"kernelspec"`
	} `json:"metadata"`
	Cells []struct {
		CellType string          `json:"cell_type"`
		Source   json.RawMessage `json:"source"`
		Outputs  []any           `json:"outputs"`
	} `json:"cells"`
}

// source reads a cell's source, stored as a string or a list of lines.
func source(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var lines []string
	_ = json.Unmarshal(raw, &lines)
	return strings.Join(lines, "")
}

// TestNotebooksAreClean checks what every committed notebook must get right to
// run in CI and in a user's Jupyter (run_all.py executes them).
func TestNotebooksAreClean(t *testing.T) {
	paths, err := filepath.Glob("[0-9]*.ipynb")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no notebooks found: %v", err)
	}
	dotImport := regexp.MustCompile(`(?m)^\s*(import\s+)?\.\s+"`)
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var nb notebook
		if err := json.Unmarshal(raw, &nb); err != nil {
			t.Errorf("%s: not a notebook: %v", path, err)
			continue
		}
		if nb.Metadata.Kernelspec.Name != "gonb" {
			t.Errorf("%s: kernel %q, want gonb", path, nb.Metadata.Kernelspec.Name)
		}
		first := true
		for i, c := range nb.Cells {
			if c.CellType != "code" {
				continue
			}
			src := source(c.Source)
			if first && !strings.HasPrefix(src, "%noautoget") {
				t.Errorf("%s: the first code cell must start with %%noautoget (otherwise GoNB asks the module proxy for the latest gomlx and fails)", path)
			}
			first = false
			if dotImport.MatchString(src) {
				t.Errorf("%s cell %d: a dot import breaks every later cell in GoNB; use a named import", path, i)
			}
			if len(c.Outputs) > 0 {
				t.Errorf("%s cell %d: committed with outputs; clear them (run_all.py writes executed copies to out/notebooks/)", path, i)
			}
		}
		if first {
			t.Errorf("%s: no code cells", path)
		}
	}
}

func TestCodeStats(t *testing.T) {
	// The corners (±s, ±s) have mean 0 and sample covariance (4s²/3)·I
	// (n−1 = 3 in the denominator), so s² = 3/4 gives exactly N(0, I)'s moments.
	corners := func(s, shift float64) [][]float32 {
		var out [][]float32
		for _, a := range []float64{-s, s} {
			for _, b := range []float64{-s, s} {
				out = append(out, []float32{float32(a), float32(b + shift)})
			}
		}
		return out
	}
	s, kl, err := CodeStats(corners(math.Sqrt(0.75), 0))
	if err != nil || math.Abs(s-1) > 1e-6 || math.Abs(kl) > 1e-6 {
		t.Errorf("codes with N(0, I)'s moments: mean std %v, KL %v, %v; want 1 and 0", s, kl, err)
	}
	// Mean (0, 2), covariance 9I: ½(tr Σ + μᵀμ − d − log det Σ) = ½(18 + 4 − 2 − 2 ln 9).
	want := 0.5 * (18 + 4 - 2 - 2*math.Log(9))
	s, kl, err = CodeStats(corners(math.Sqrt(27.0/4), 2))
	if err != nil || math.Abs(s-3) > 1e-5 || math.Abs(kl-want) > 1e-5 {
		t.Errorf("mean (0,2), covariance 9I: mean std %v, KL %v, %v; want 3 and %v", s, kl, err, want)
	}
	line := [][]float32{{0, 0}, {1, 1}, {2, 2}}
	if _, kl, err := CodeStats(line); err != nil || !math.IsInf(kl, 1) {
		t.Errorf("collinear codes: KL %v, %v; want +Inf", kl, err)
	}
}

func TestKNNAccuracy(t *testing.T) {
	ref := [][]float32{{0, 0}, {0, 1}, {1, 0}, {10, 10}, {10, 11}, {11, 10}}
	labels := []int{0, 0, 0, 1, 1, 1}
	query := [][]float32{{0.5, 0.5}, {10.5, 10.5}, {9, 9}}
	got, err := KNNAccuracy(ref, labels, query, []int{0, 1, 0}, 3)
	if err != nil || math.Abs(got-2.0/3) > 1e-12 {
		t.Errorf("accuracy %v, %v; want 2/3 (the third query sits in class 1's cluster)", got, err)
	}
	// k=2 with one vote each: the nearest neighbour's label wins.
	got, err = KNNAccuracy([][]float32{{0}, {3}}, []int{7, 8}, [][]float32{{1}}, []int{7}, 2)
	if err != nil || got != 1 {
		t.Errorf("tie: accuracy %v, %v; want the nearest label", got, err)
	}
	if _, err := KNNAccuracy(ref, labels, query, []int{0}, 3); err == nil {
		t.Error("mismatched labels: no error")
	}
}
