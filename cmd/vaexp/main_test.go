package main

import (
	"bytes"
	"fmt"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vaexp/vaexp/experiments"
	"github.com/vaexp/vaexp/tracker"
)

// env is one test's database and runs folder.
type env struct {
	t      *testing.T
	dir    string
	db     string
	runs   string
	stdout string
	stderr string
	code   int
	// stdin is the input of the next run; it is reset after each.
	stdin string
}

func newEnv(t *testing.T) *env {
	dir := t.TempDir()
	return &env{t: t, dir: dir, db: filepath.Join(dir, "vaexp.db"), runs: filepath.Join(dir, "runs")}
}

// run runs vaexp in-process on the env's database and runs folder.
func (e *env) run(args ...string) int {
	e.t.Helper()
	var out, errb bytes.Buffer
	full := append([]string{"--db", e.db}, args...)
	if slices.Contains(args, "train") || slices.Contains(args, "delete") {
		// The global --out (runs folder) is shadowed by the --out FILE of
		// plot, samples, compare, group and export, so it is given to
		// train and delete only.
		full = append([]string{"--out", e.runs}, full...)
	}
	e.code = run(full, strings.NewReader(e.stdin), &out, &errb)
	e.stdin = ""
	e.stdout, e.stderr = out.String(), errb.String()
	return e.code
}

// ok runs vaexp and fails the test unless it succeeds.
func (e *env) ok(args ...string) string {
	e.t.Helper()
	if code := e.run(args...); code != 0 {
		e.t.Fatalf("vaexp %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, e.stdout, e.stderr)
	}
	return e.stdout
}

// open opens the env's database through the tracker.
func (e *env) open() *tracker.DB {
	e.t.Helper()
	db, err := tracker.Open(e.db)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { db.Close() })
	return db
}

// runCount is the number of runs recorded, 0 when there is no database.
func (e *env) runCount() int {
	e.t.Helper()
	if _, err := os.Stat(e.db); err != nil {
		return 0
	}
	db, err := tracker.Open(e.db)
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	runs, err := db.ListRuns()
	if err != nil {
		e.t.Fatal(err)
	}
	return len(runs)
}

func checkPNG(t *testing.T, what string, data []byte) (w, h int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", what, err)
	}
	b := img.Bounds()
	if b.Dx() < 50 || b.Dy() < 50 {
		t.Errorf("%s is only %dx%d pixels", what, b.Dx(), b.Dy())
	}
	return b.Dx(), b.Dy()
}

func checkPNGFile(t *testing.T, path string) (w, h int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return checkPNG(t, path, data)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestEndToEnd trains a tiny run through the CLI, checks what the tracker
// holds, then reads it back with every other command.
func TestEndToEnd(t *testing.T) {
	e := newEnv(t)
	out := e.ok("train", "--limit", "512", "--test-limit", "200", "--batch-size", "64", "--epochs", "1",
		"--samples", "16", "--quiet", "--name", "tiny", "--tag", "note=e2e", "--set", "likelihood=bernoulli")
	if got := lastLine(out); got != "run 1 finished" {
		t.Fatalf("last line %q, want %q\n%s", got, "run 1 finished", out)
	}
	if !strings.Contains(out, "test/nelbo") {
		t.Errorf("train output lacks the final metrics:\n%s", out)
	}
	if strings.Contains(e.stderr, "steps/s") {
		t.Errorf("--quiet still drew a progress bar:\n%s", e.stderr)
	}

	db := e.open()
	r, err := db.Run(1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != tracker.StatusFinished || r.Name != "tiny" || r.Family != "vae" {
		t.Errorf("run row: %+v", r)
	}
	if !strings.HasPrefix(r.Command, "vaexp --out ") || !strings.Contains(r.Command, "--limit 512") {
		t.Errorf("recorded command %q", r.Command)
	}
	const steps = 512 / 64
	for _, key := range []string{"train/recon", "train/kl", "train/loss"} {
		h, err := db.MetricHistory(1, key)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, p := range h {
			got = append(got, p.Step)
		}
		want := []int64{1, 2, 3, 4, 5, 6, 7, 8}
		if !slices.Equal(got, want) {
			t.Errorf("%s logged at steps %v, want one point per step %v", key, got, want)
		}
	}
	latest, err := db.LatestMetrics(1)
	if err != nil {
		t.Fatal(err)
	}
	var nelbo *tracker.LatestMetric
	for i := range latest {
		if latest[i].Key == "test/nelbo" {
			nelbo = &latest[i]
		}
	}
	if nelbo == nil || nelbo.Step != steps || !(nelbo.Value > 50 && nelbo.Value < 600) {
		t.Errorf("final test/nelbo: %+v, want a plausible value at step %d", nelbo, steps)
	}
	data, info, err := db.Artifact(1, "samples.png")
	if err != nil {
		t.Fatal(err)
	}
	if info.MIME != "image/png" {
		t.Errorf("samples.png MIME %q", info.MIME)
	}
	checkPNG(t, "artifact samples.png", data)
	params, err := db.Params(1)
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(params, func(p tracker.Param) bool { return p.Key == "data.limit" }); i < 0 || params[i].Value != int64(512) {
		t.Errorf("param data.limit missing or wrong: %v", params)
	}
	if tags, _ := db.Tags(1); tags["note"] != "e2e" {
		t.Errorf("tags %v, want note=e2e", tags)
	}

	list := e.ok("runs", "list")
	for _, want := range []string{"ID", "STATUS", "tiny", "finished", "test/nelbo", " 8 "} {
		if !strings.Contains(list, want) {
			t.Errorf("runs list lacks %q:\n%s", want, list)
		}
	}

	show := e.ok("runs", "show", "last")
	for _, want := range []string{"tiny", "finished", "data.limit", "512", "note", "e2e", "test/nelbo", "train/loss",
		"samples.png", "reconstructions.png", "image/png", "kB"} {
		if !strings.Contains(show, want) {
			t.Errorf("runs show last lacks %q:\n%s", want, show)
		}
	}
	if e.ok("runs", "show", "1") != show {
		t.Error("runs show 1 and runs show last differ")
	}

	fig := filepath.Join(e.dir, "x.png")
	e.ok("plot", "last", "--out", fig)
	w, h := checkPNGFile(t, fig)
	if w < 600 || h < 400 {
		t.Errorf("plot is %dx%d, want several panels", w, h)
	}
	svg := filepath.Join(e.dir, "x.svg")
	e.ok("plot", "1", "--out", svg)
	if b, _ := os.ReadFile(svg); !bytes.Contains(b, []byte("<svg")) {
		t.Error("plot --out x.svg is not an SVG")
	}

	s := filepath.Join(e.dir, "s.png")
	e.ok("samples", "last", "--out", s, "-n", "12", "--cols", "3")
	sw, sh := checkPNGFile(t, s)
	if sw >= sh {
		t.Errorf("12 samples in 3 columns drew %dx%d, want a tall grid", sw, sh)
	}
	recon := filepath.Join(e.dir, "recon.png")
	e.ok("samples", "last", "--artifact", "reconstructions.png", "--out", recon)
	want, _, _ := db.Artifact(1, "reconstructions.png")
	if got, _ := os.ReadFile(recon); !bytes.Equal(got, want) {
		t.Error("samples --artifact did not export the stored bytes")
	}

	if models := e.ok("models"); !strings.Contains(models, "vae") || !strings.Contains(models, "variational") {
		t.Errorf("models:\n%s", models)
	}
	desc := e.ok("models", "vae")
	for _, want := range []string{"Kingma", "latent_dim", "20", ">= 1", "hidden", "400", "init", "pytorch|he"} {
		if !strings.Contains(desc, want) {
			t.Errorf("models vae lacks %q:\n%s", want, desc)
		}
	}
	if v := e.ok("version"); !regexp.MustCompile(`(?m)^simd\s+(avx512|avx2|portable|off) `).MatchString(v) || !strings.Contains(v, "go1.") || !strings.Contains(v, "backend") {
		t.Errorf("version:\n%s", v)
	}

	// Training resumes only runs that did not finish.
	if e.run("train", "--resume", "1") != 1 || !strings.Contains(e.stderr, "already finished") {
		t.Errorf("resume of a finished run: exit %d, stderr %q", e.code, e.stderr)
	}
	if e.run("train", "--resume", "1", "--epochs", "3") != 2 || !strings.Contains(e.stderr, "drop --epochs") {
		t.Errorf("resume with spec flags: exit %d, stderr %q", e.code, e.stderr)
	}
	if n := e.runCount(); n != 1 {
		t.Errorf("%d runs recorded, want 1", n)
	}
}

// TestErrors checks each failure names the bad value, exits non-zero with
// one line on stderr, and leaves no run row, run folder or output file.
func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		// setup prepares the env; it may return extra args.
		setup    func(e *env) []string
		args     []string
		code     int
		want     []string
		noOutput string // a file that must not exist afterwards
	}{
		{name: "unknown model", args: []string{"train", "--model", "nope"}, code: 2,
			want: []string{`"nope"`, "vae", "vaexp models"}},
		{name: "unknown --set key", args: []string{"train", "--set", "bogus=1"}, code: 2,
			want: []string{`"bogus"`, "latent_dim"}},
		{name: "malformed --set", args: []string{"train", "--set", "beta"}, code: 2,
			want: []string{`"beta"`, "name=value"}},
		{name: "bad --set value", args: []string{"train", "--set", "latent_dim=many"}, code: 2,
			want: []string{"latent_dim", "many", "integer"}},
		{name: "--set twice", args: []string{"train", "--latent-dim", "8", "--set", "latent_dim=9"}, code: 2,
			want: []string{"latent_dim", "once"}},
		{name: "bad --binarize", args: []string{"train", "--binarize", "maybe"}, code: 2,
			want: []string{`"maybe"`, "none, dynamic, static"}},
		{name: "bad --init", args: []string{"train", "--init", "xavier"}, code: 2,
			want: []string{"xavier", "pytorch"}},
		{name: "negative --lr", args: []string{"train", "--lr", "-1"}, code: 2,
			want: []string{"-1", "> 0", "--lr 1e-3"}},
		{name: "unparsable --epochs", args: []string{"train", "--epochs", "ten"}, code: 2,
			want: []string{`"ten"`, "--epochs"}},
		{name: "bad --tag", args: []string{"train", "--tag", "novalue"}, code: 2,
			want: []string{`"novalue"`, "key=value"}},
		{name: "missing spec file", args: []string{"train", "--spec", "/nonexistent/spec.yaml"}, code: 2,
			want: []string{"/nonexistent/spec.yaml"}},
		{name: "bad spec key", setup: func(e *env) []string {
			p := filepath.Join(e.dir, "bad.yaml")
			os.WriteFile(p, []byte("model: vae\ntrain:\n  epohcs: 3\n"), 0o644)
			return []string{"--spec", p}
		}, args: []string{"train"}, code: 2, want: []string{"epohcs", "line 3", "in train"}},
		{name: "unwritable db", args: []string{"--db", "/proc/x.db", "train", "--limit", "256"}, code: 1,
			want: []string{"/proc/x.db", "--db"}},
		{name: "db under a regular file", setup: func(e *env) []string {
			p := filepath.Join(e.dir, "file")
			os.WriteFile(p, []byte("x"), 0o644)
			return []string{"--db", filepath.Join(p, "x.db")}
		}, args: []string{"train", "--limit", "256"}, code: 2, want: []string{"not a directory", "--db"}},
		{name: "positional arg to train", args: []string{"train", "vae"}, code: 2, want: []string{`"vae"`, "no arguments"}},
		{name: "unknown command", args: []string{"trian"}, code: 2, want: []string{`"trian"`, "train"}},
		{name: "unknown runs command", args: []string{"runs", "ls"}, code: 2, want: []string{`"ls"`, "list, show"}},
		{name: "unknown flag", args: []string{"runs", "list", "--all"}, code: 2, want: []string{"--all"}},
		{name: "no database yet", args: []string{"runs", "list"}, code: 1, want: []string{"no tracker database", "vaexp train"}},
		{name: "missing run", setup: emptyDB, args: []string{"runs", "show", "999"}, code: 1,
			want: []string{"run 999", "not found", "runs list"}},
		{name: "last of no runs", setup: emptyDB, args: []string{"runs", "show", "last"}, code: 1,
			want: []string{"no runs"}},
		{name: "bad run id", setup: emptyDB, args: []string{"runs", "show", "first"}, code: 2,
			want: []string{`"first"`, "last"}},
		{name: "no run id", args: []string{"runs", "show"}, code: 2, want: []string{"RUN_ID"}},
		{name: "plot unsupported extension", setup: emptyDB, args: []string{"plot", "last", "--out", "OUT/fig.jpg"}, code: 2,
			want: []string{".jpg", ".png", ".svg"}, noOutput: "fig.jpg"},
		{name: "plot without --out", setup: emptyDB, args: []string{"plot", "last"}, code: 2, want: []string{"--out"}},
		{name: "plot missing run", setup: emptyDB, args: []string{"plot", "7", "--out", "OUT/fig.png"}, code: 1,
			want: []string{"run 7", "not found"}, noOutput: "fig.png"},
		{name: "samples missing run", setup: emptyDB, args: []string{"samples", "7", "--out", "OUT/s.png"}, code: 1,
			want: []string{"run 7", "not found"}, noOutput: "s.png"},
		{name: "samples not png", setup: emptyDB, args: []string{"samples", "7", "--out", "OUT/s.jpg"}, code: 2,
			want: []string{"s.jpg", ".png"}, noOutput: "s.jpg"},
		{name: "unknown model to describe", args: []string{"models", "nope"}, code: 2, want: []string{`"nope"`, "vae"}},
		{name: "resume missing run", setup: emptyDB, args: []string{"train", "--resume", "42"}, code: 1,
			want: []string{"run 42", "not found"}},
		{name: "runs list bad --format", setup: emptyDB, args: []string{"runs", "list", "--format", "xml"}, code: 2,
			want: []string{`"xml"`, "table, csv, json"}},
		{name: "runs list negative --limit", setup: emptyDB, args: []string{"runs", "list", "--limit", "-1"}, code: 2,
			want: []string{"-1", "0 for all"}},
		{name: "runs compare one run", setup: emptyDB, args: []string{"runs", "compare", "3"}, code: 2,
			want: []string{"two or more"}},
		{name: "runs compare missing run", setup: emptyDB, args: []string{"runs", "compare", "3", "4", "--out", "OUT/c.png"}, code: 1,
			want: []string{"run 3", "not found"}, noOutput: "c.png"},
		{name: "runs group without --by", args: []string{"runs", "group"}, code: 2, want: []string{"--by", "params.beta"}},
		{name: "runs export without --out", args: []string{"runs", "export"}, code: 2, want: []string{"--out", "stdout"}},
		{name: "runs export unknown extension", setup: emptyDB, args: []string{"runs", "export", "--out", "OUT/r.xlsx"}, code: 2,
			want: []string{"r.xlsx", ".csv or .json"}, noOutput: "r.xlsx"},
		{name: "runs tag malformed", args: []string{"runs", "tag", "3", "note"}, code: 2, want: []string{`"note"`, "key=value"}},
		{name: "runs tag missing run", setup: emptyDB, args: []string{"runs", "tag", "3", "a=b"}, code: 1,
			want: []string{"run 3", "not found"}},
		{name: "runs delete without id", args: []string{"runs", "delete"}, code: 2, want: []string{"RUN_ID"}},
		{name: "runs delete missing run", setup: emptyDB, args: []string{"runs", "delete", "3", "--yes"}, code: 1,
			want: []string{"run 3", "not found"}},

		// Issue 8: one exit-status rule. Every value, spec, family and path
		// mistake is a usage error (2), found before anything is recorded.
		{name: "negative --steps", args: []string{"train", "--steps", "-5"}, code: 2, want: []string{"train.steps", "-5", "--steps"}},
		{name: "negative --epochs", args: []string{"train", "--epochs", "-3"}, code: 2, want: []string{"train.epochs", "-3"}},
		{name: "no budget", args: []string{"train", "--epochs", "0"}, code: 2, want: []string{"--epochs or --steps"}},
		{name: "infinite --lr", args: []string{"train", "--lr", "inf"}, code: 2, want: []string{"+Inf", "finite", "--lr"}},
		{name: "NaN --lr", args: []string{"train", "--lr", "nan"}, code: 2, want: []string{"NaN", "--lr"}},
		{name: "zero --batch-size", args: []string{"train", "--batch-size", "0"}, code: 2, want: []string{"batch_size", ">= 1"}},
		{name: "batch larger than the data", args: []string{"train", "--limit", "100", "--batch-size", "128"}, code: 2,
			want: []string{"128", "100 training examples", "--limit"}},
		{name: "--val beyond the data", args: []string{"train", "--val", "70000"}, code: 2, want: []string{"70000", "60000"}},
		{name: "huge --iwae-k", args: []string{"train", "--iwae-k", "10000000"}, code: 2, want: []string{"iwae_k", "20000"}},
		{name: "huge --samples", args: []string{"train", "--samples", "100000"}, code: 2, want: []string{"samples", "1024"}},
		{name: "negative --checkpoint-every", args: []string{"train", "--checkpoint-every", "-1"}, code: 2, want: []string{"checkpoint_every"}},
		{name: "infinite hyperparameter", args: []string{"train", "--model", "beta-vae", "--set", "beta=inf"}, code: 2,
			want: []string{"beta", "finite", "vaexp models beta-vae"}},
		{name: "non-numeric hyperparameter", args: []string{"train", "--model", "beta-vae", "--set", "beta=abc"}, code: 2,
			want: []string{"beta", "abc", "number"}},
		{name: "missing --data-dir", args: []string{"train", "--data-dir", "/nonexistent/mnist"}, code: 2,
			want: []string{"--data-dir", "/nonexistent/mnist"}},
		{name: "spec with a fraction for an integer", setup: func(e *env) []string {
			p := filepath.Join(e.dir, "frac.yaml")
			os.WriteFile(p, []byte("train:\n  epochs: 2.5\n"), 0o644)
			return []string{"--spec", p}
		}, args: []string{"train"}, code: 2, want: []string{"line 2", "train.epochs", "whole number"}},
		{name: "spec of the wrong shape", setup: func(e *env) []string {
			p := filepath.Join(e.dir, "list.yaml")
			os.WriteFile(p, []byte("params: [1, 2]\n"), 0o644)
			return []string{"--spec", p}
		}, args: []string{"train"}, code: 2, want: []string{"line 1", "params", "not a list"}},
		{name: "--out is a file", setup: func(e *env) []string {
			p := filepath.Join(e.dir, "file")
			os.WriteFile(p, []byte("x"), 0o644)
			return []string{"--out", p}
		}, args: []string{"train"}, code: 2, want: []string{"--out", "file", "is a file, not a folder"}},
		{name: "--out too long", args: []string{"--out", strings.Repeat("x", 300), "train"}, code: 2, want: []string{"--out", "too long"}},
		{name: "--db is a text file", setup: func(e *env) []string {
			p := filepath.Join(e.dir, "notes.txt")
			os.WriteFile(p, []byte("x"), 0o644)
			return []string{"--db", p}
		}, args: []string{"runs", "list"}, code: 2, want: []string{"notes.txt", "not a database", "untouched"}},
		{name: "empty --db", args: []string{"--db", "", "runs", "list"}, code: 2, want: []string{"empty database path"}},
		{name: "--db is a folder", args: []string{"--db", ".", "runs", "list"}, code: 2, want: []string{"is a directory"}},
		{name: "resume without a database", args: []string{"train", "--resume", "1"}, code: 1, want: []string{"no tracker database"}},
		{name: "samples -n too large", setup: emptyDB, args: []string{"samples", "last", "-n", "100000", "--out", "OUT/s.png"}, code: 2,
			want: []string{"-n 100000", "1024"}, noOutput: "s.png"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			var extra []string
			if tc.setup != nil {
				extra = tc.setup(e)
			}
			args := append(extra, tc.args...)
			for i, a := range args {
				args[i] = strings.ReplaceAll(a, "OUT/", e.dir+"/")
			}
			before, _ := os.ReadDir(e.dir)
			code := e.run(args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tc.code, e.stderr)
			}
			msg := strings.TrimSpace(e.stderr)
			if !strings.HasPrefix(msg, "vaexp: ") || strings.Contains(msg, "\n") {
				t.Errorf("stderr is not one line `vaexp: <message>`: %q", e.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
			if e.stdout != "" {
				t.Errorf("stdout not empty on error: %q", e.stdout)
			}
			if n := e.runCount(); n != 0 {
				t.Errorf("%d run rows created", n)
			}
			after, _ := os.ReadDir(e.dir)
			if len(after) != len(before) {
				t.Errorf("files left behind: before %v, after %v", names(before), names(after))
			}
			if tc.noOutput != "" {
				if _, err := os.Stat(filepath.Join(e.dir, tc.noOutput)); err == nil {
					t.Errorf("%s was written", tc.noOutput)
				}
			}
		})
	}
}

// emptyDB creates the env's database with no runs.
func emptyDB(e *env) []string {
	db, err := tracker.Open(e.db)
	if err != nil {
		e.t.Fatal(err)
	}
	db.Close()
	return nil
}

func names(entries []os.DirEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestTrainSpec checks how flags, a --spec file and --set combine: only
// flags given explicitly override the file.
func TestTrainSpec(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "spec.yaml")
	os.WriteFile(file, []byte("name: fromfile\ntrain:\n  steps: 50\n  lr: 0.01\nparams:\n  latent_dim: 5\n"), 0o644)
	tests := []struct {
		name  string
		args  []string
		check func(s experiments.Spec) string
	}{
		{"defaults", nil, func(s experiments.Spec) string {
			if s.Family != "vae" || s.Train.Epochs != 10 || s.Train.LR != 0 || len(s.Params) != 0 || s.Data.Name != "mnist" || s.Data.Binarize != "none" {
				return "not the default spec"
			}
			cfg, err := s.Validate()
			if err != nil {
				return err.Error()
			}
			if tr := s.Training(cfg); tr.LR != 1e-3 || tr.Beta1 != 0.9 || tr.Beta2 != 0.999 {
				return fmt.Sprintf("the VAE's training is %+v, want Adam(1e-3, 0.9, 0.999)", tr)
			}
			return ""
		}},
		{"flags map onto family params", []string{"--latent-dim", "8", "--hidden", "512,256", "--init", "he", "--set", "likelihood=gaussian"},
			func(s experiments.Spec) string {
				want := map[string]any{"latent_dim": 8, "hidden": "512,256", "init": "he", "likelihood": "gaussian"}
				for k, v := range want {
					if s.Params[k] != v {
						return "param " + k + " not set"
					}
				}
				return ""
			}},
		{"spec file", []string{"--spec", file}, func(s experiments.Spec) string {
			if s.Name != "fromfile" || s.Train.Steps != 50 || s.Train.LR != 0.01 || s.Params["latent_dim"] != 5 || s.Train.BatchSize != 128 {
				return "spec file not applied over the defaults"
			}
			return ""
		}},
		{"explicit flags override the file", []string{"--spec", file, "--lr", "0.5", "--latent-dim", "3", "--epochs", "2"},
			func(s experiments.Spec) string {
				if s.Train.LR != 0.5 || s.Params["latent_dim"] != 3 || s.Name != "fromfile" {
					return "flags did not override"
				}
				if s.Train.Epochs != 2 || s.Train.Steps != 0 {
					return "--epochs must replace the file's step budget"
				}
				return ""
			}},
		{"tags", []string{"--tag", "a=1", "--tag", "b = two words"}, func(s experiments.Spec) string {
			if s.Tags["a"] != "1" || s.Tags["b"] != "two words" {
				return "tags not parsed"
			}
			return ""
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, f := trainCommand(&app{})
			if err := c.ParseFlags(tc.args); err != nil {
				t.Fatal(err)
			}
			s, err := f.spec(c.Flags())
			if err != nil {
				t.Fatal(err)
			}
			if msg := tc.check(s); msg != "" {
				t.Errorf("%s: %+v", msg, s)
			}
			if _, err := s.Validate(); err != nil {
				t.Errorf("spec does not validate: %v", err)
			}
		})
	}
}

// TestPlotPanels draws a run with a long noisy train curve, per-epoch
// validation points and final test values, as a run of many epochs has.
func TestPlotPanels(t *testing.T) {
	e := newEnv(t)
	db := e.open()
	rec, err := db.StartRun(tracker.RunInfo{Family: "vae", Name: "synthetic"})
	if err != nil {
		t.Fatal(err)
	}
	const steps, perEpoch = 2000, 200
	rng := rand.New(rand.NewPCG(1, 2))
	for s := 1; s <= steps; s++ {
		noise := 6 * rng.NormFloat64()
		recon := 90 + 110*math.Exp(-float64(s)/300) + noise
		kl := 25 - 10*math.Exp(-float64(s)/200) + noise/4
		rec.LogMetrics(int64(s), map[string]float64{"train/recon": recon, "train/kl": kl, "train/loss": recon + kl, "train/nelbo": recon + kl})
		if s%perEpoch == 0 {
			v := 95 + 110*math.Exp(-float64(s)/300)
			rec.LogMetrics(int64(s), map[string]float64{"val/recon": v, "val/kl": 24, "val/loss": v + 24, "val/nelbo": v + 24})
		}
	}
	rec.LogMetrics(steps, map[string]float64{"test/recon": 96, "test/kl": 24.5, "test/loss": 120.5, "test/nelbo": 120.5, "test/iwae_nll": 115})
	// Single values with no curve to read them against: text, not panels.
	rec.LogMetrics(steps, map[string]float64{"time/median_step_ms": 5.75, "time/train_seconds": 12.5})
	if err := rec.Finish(tracker.StatusFinished, nil); err != nil {
		t.Fatal(err)
	}

	panels, notes, smooth, err := metricPanels(db, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"time/median_step_ms = 5.75", "time/train_seconds = 12.5"}; !slices.Equal(notes, want) {
		t.Errorf("notes %q, want %q: single values are written as text", notes, want)
	}
	var titles []string
	for _, p := range panels {
		titles = append(titles, p.Title)
	}
	if want := []string{"loss", "nelbo", "recon", "kl"}; !slices.Equal(titles, want) {
		t.Errorf("panels %v, want %v", titles, want)
	}
	if smooth < 2 {
		t.Errorf("smoothing window %d for a %d-step curve", smooth, steps)
	}
	var series []string
	for _, s := range panels[1].Series {
		series = append(series, s.Name)
	}
	if want := []string{"train", "val", "test (final)", "test IWAE (final)"}; !slices.Equal(series, want) {
		t.Errorf("nelbo panel series %v, want %v", series, want)
	}
	test := panels[1].Series[2]
	if !slices.Equal(test.Y, []float64{120.5, 120.5}) || test.X[0] != 1 || test.X[1] != steps {
		t.Errorf("test value must span the panel as a flat line: %+v", test)
	}
	// Validation points stay unsmoothed: gaps wider than the window keep
	// each one in its own average.
	val := panels[1].Series[1]
	var finite []float64
	for _, y := range val.Y {
		if !math.IsNaN(y) {
			finite = append(finite, y)
		}
	}
	if len(finite) != steps/perEpoch || finite[0] != 95+110*math.Exp(-float64(perEpoch)/300)+24 {
		t.Errorf("val series: %d points, first %v", len(finite), finite)
	}

	fig := filepath.Join(e.dir, "synthetic.png")
	e.ok("plot", "1", "--out", fig)
	checkPNGFile(t, fig)
	if keep := os.Getenv("VAEXP_KEEP_PLOT"); keep != "" {
		data, _ := os.ReadFile(fig)
		os.WriteFile(keep, data, 0o644)
	}
}

func TestParseRunID(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"last", 0, true}, {"1", 1, true}, {"42", 42, true},
		{"0", 0, false}, {"-3", 0, false}, {"abc", 0, false}, {"", 0, false}, {"Last", 0, false},
	}
	for _, tc := range tests {
		got, err := parseRunID(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseRunID(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestCommandLine(t *testing.T) {
	got := commandLine([]string{"vaexp", "train", "--name", "my run", "--tag", "k=it's"})
	want := `vaexp train --name 'my run' --tag 'k=it'\''s'`
	if got != want {
		t.Errorf("commandLine = %s, want %s", got, want)
	}
}

func TestFindUp(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "notebooks", "x", "y"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notebooks", "install.sh"), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(dir, "notebooks", "x", "y"))
	got, err := findUp("notebooks/install.sh")
	if err != nil || got != filepath.Join(dir, "notebooks", "install.sh") {
		t.Errorf("findUp = %q, %v", got, err)
	}
	t.Chdir(t.TempDir())
	if _, err := findUp("notebooks/install.sh"); err == nil || !strings.Contains(err.Error(), "checkout") {
		t.Errorf("outside a checkout: %v", err)
	}
}
