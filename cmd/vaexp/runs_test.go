package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vaexp/vaexp/tracker"
)

// fixture is a database of five tiny real runs, trained once for every
// test that reads runs (see fixtureEnv):
//
//	run 1  beta-vae  beta=1  seed=1  tags group=a
//	run 2  beta-vae  beta=1  seed=2  tags group=a
//	run 3  beta-vae  beta=4  seed=1  tags group=b
//	run 4  beta-vae  beta=4  seed=2  tags group=b
//	run 5  vae (named plain) seed=1  tags note=keep
var fixture struct {
	once sync.Once
	dir  string
	err  error
}

var fixtureRuns = [][]string{
	{"--model", "beta-vae", "--set", "beta=1", "--seed", "1", "--tag", "group=a"},
	{"--model", "beta-vae", "--set", "beta=1", "--seed", "2", "--tag", "group=a"},
	{"--model", "beta-vae", "--set", "beta=4", "--seed", "1", "--tag", "group=b"},
	{"--model", "beta-vae", "--set", "beta=4", "--seed", "2", "--tag", "group=b"},
	{"--model", "vae", "--seed", "1", "--name", "plain", "--tag", "note=keep"},
}

// tinyTrain is the cheapest real training run: 4 steps of 64 examples.
var tinyTrain = []string{"train", "--limit", "256", "--test-limit", "100", "--batch-size", "64", "--steps", "4", "--samples", "0", "--quiet"}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixture.dir != "" {
		os.RemoveAll(fixture.dir)
	}
	if vaexpBinary.dir != "" {
		os.RemoveAll(vaexpBinary.dir)
	}
	os.Exit(code)
}

// fixtureEnv returns an env reading the shared fixture database; tests
// that change it use fixtureCopy.
func fixtureEnv(t *testing.T) *env {
	t.Helper()
	fixture.once.Do(func() {
		dir, err := os.MkdirTemp("", "vaexp-runs-fixture")
		if err != nil {
			fixture.err = err
			return
		}
		fixture.dir = dir
		db, runs := filepath.Join(dir, "vaexp.db"), filepath.Join(dir, "runs")
		for _, extra := range fixtureRuns {
			var out, errb bytes.Buffer
			args := append([]string{"--db", db, "--out", runs}, append(slices.Clone(tinyTrain), extra...)...)
			if code := run(args, strings.NewReader(""), &out, &errb); code != 0 {
				fixture.err = fmt.Errorf("train %v: exit %d\n%s%s", extra, code, out.String(), errb.String())
				return
			}
		}
	})
	if fixture.err != nil {
		t.Fatal(fixture.err)
	}
	return &env{t: t, dir: t.TempDir(), db: filepath.Join(fixture.dir, "vaexp.db"), runs: filepath.Join(fixture.dir, "runs")}
}

// fixtureCopy returns an env on a copy of the fixture database (not of its
// run folders: the copy's runs still name the fixture's folders).
func fixtureCopy(t *testing.T) *env {
	t.Helper()
	src := fixtureEnv(t)
	e := newEnv(t)
	for _, suffix := range []string{"", "-wal"} {
		data, err := os.ReadFile(src.db + suffix)
		if errors.Is(err, os.ErrNotExist) && suffix != "" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(e.db+suffix, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// fixtureRows reads every fixture run through the tracker.
func fixtureRows(t *testing.T, e *env) map[int64]tracker.RunRow {
	t.Helper()
	rows, err := e.open().Runs().All()
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]tracker.RunRow{}
	for _, r := range rows {
		out[r.ID] = r
	}
	return out
}

// csvIDs parses CSV output and returns its header and the id column.
func csvIDs(t *testing.T, s string) ([]string, []int64) {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v\n%s", err, s)
	}
	if len(recs) == 0 {
		t.Fatalf("empty CSV")
	}
	col := slices.Index(recs[0], "id")
	if col < 0 {
		t.Fatalf("CSV header %v has no id", recs[0])
	}
	var ids []int64
	for _, rec := range recs[1:] {
		id, err := strconv.ParseInt(rec[col], 10, 64)
		if err != nil {
			t.Fatalf("id %q: %v", rec[col], err)
		}
		ids = append(ids, id)
	}
	return recs[0], ids
}

func TestRunsList(t *testing.T) {
	e := fixtureEnv(t)
	rows := fixtureRows(t, e)
	if len(rows) != 5 {
		t.Fatalf("fixture has %d runs, want 5", len(rows))
	}

	t.Run("filter OR and IN", func(t *testing.T) {
		tests := []struct {
			filter string
			want   []int64 // newest first
		}{
			{"params.beta IN (4) OR tags.note = 'keep'", []int64{5, 4, 3}},
			{"tags.group IN ('a', 'b') AND seed = 1", []int64{3, 1}},
			{"family = 'vae' OR (params.beta = 1 AND seed = 2)", []int64{5, 2}},
			{"NOT params.beta = 1", []int64{5, 4, 3}},
			{"params.beta != 1", []int64{4, 3}}, // != needs the param
			{"status = 'failed'", nil},
		}
		for _, tc := range tests {
			_, ids := csvIDs(t, e.ok("runs", "list", "--filter", tc.filter, "--columns", "id", "--format", "csv"))
			if !slices.Equal(ids, tc.want) {
				t.Errorf("--filter %q: ids %v, want %v", tc.filter, ids, tc.want)
			}
		}
	})

	t.Run("order-by and limit", func(t *testing.T) {
		// The expected order, from values read through the tracker: test
		// NELBO ascending, ties newest first.
		want := make([]int64, 0, len(rows))
		for id := range rows {
			want = append(want, id)
		}
		nelbo := func(id int64) float64 { return rows[id].Metrics["test/nelbo"].Value }
		sort.Slice(want, func(i, j int) bool {
			if a, b := nelbo(want[i]), nelbo(want[j]); a != b {
				return a < b
			}
			return want[i] > want[j]
		})
		out := e.ok("runs", "list", "--order-by", "metrics.test_nelbo asc", "--limit", "3", "--columns", "id,metrics.test/nelbo", "--format", "csv")
		header, ids := csvIDs(t, out)
		if !slices.Equal(ids, want[:3]) {
			t.Errorf("ordered ids %v, want %v", ids, want[:3])
		}
		if !slices.Equal(header, []string{"id", "metrics.test/nelbo"}) {
			t.Errorf("header %v", header)
		}
		if !strings.Contains(e.stderr, "3 of 5 runs") {
			t.Errorf("stderr does not say the limit cut the list: %q", e.stderr)
		}
		_, ids = csvIDs(t, e.ok("runs", "list", "--order-by", "params.beta desc, seed asc", "--limit", "0", "--format", "csv"))
		if want := []int64{3, 4, 1, 2, 5}; !slices.Equal(ids, want) {
			t.Errorf("--order-by 'params.beta desc, seed asc': %v, want %v (missing beta last)", ids, want)
		}
		if e.stderr != "" {
			t.Errorf("--limit 0 wrote a note: %q", e.stderr)
		}
	})

	t.Run("table", func(t *testing.T) {
		out := e.ok("runs", "list")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 6 || !strings.HasPrefix(lines[0], "ID ") || !strings.Contains(lines[0], "FINAL") {
			t.Fatalf("default table:\n%s", out)
		}
		if !strings.HasPrefix(lines[1], "5 ") || !strings.Contains(lines[1], "plain") || !strings.Contains(lines[1], "test/nelbo") {
			t.Errorf("newest run first with its final metric: %q", lines[1])
		}
		out = e.ok("runs", "list", "--columns", "id,name,params.beta,tags.group,metrics.test/nelbo", "--limit", "2")
		lines = strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 4 {
			t.Fatalf("want header, 2 runs and the limit note:\n%s", out)
		}
		if f := strings.Fields(lines[0]); !slices.Equal(f, []string{"id", "name", "params.beta", "tags.group", "metrics.test/nelbo"}) {
			t.Errorf("header %v", f)
		}
		want5 := []string{"5", "plain", "-", "-", formatValue(rows[5].Metrics["test/nelbo"].Value)}
		want4 := []string{"4", "run-4", "4", "b", formatValue(rows[4].Metrics["test/nelbo"].Value)}
		if f := strings.Fields(lines[1]); !slices.Equal(f, want5) {
			t.Errorf("row %v, want %v", f, want5)
		}
		if f := strings.Fields(lines[2]); !slices.Equal(f, want4) {
			t.Errorf("row %v, want %v", f, want4)
		}
		if col := strings.Index(lines[0], "params.beta"); strings.Index(lines[2], " 4  ")+1 != col {
			t.Errorf("columns not aligned:\n%s", out)
		}
		if lines[3] != "(2 of 5 runs; --limit 0 lists all)" {
			t.Errorf("limit note %q", lines[3])
		}
		if out := e.ok("runs", "list", "--filter", "status = 'failed'"); !strings.Contains(out, "no runs match") {
			t.Errorf("empty result: %q", out)
		}
	})

	t.Run("json", func(t *testing.T) {
		out := e.ok("runs", "list", "--format", "json", "--columns", "id,params.beta,metrics.test/nelbo,tags.group,created")
		var got []map[string]any
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		if len(got) != 5 {
			t.Fatalf("%d records, want 5", len(got))
		}
		for _, rec := range got {
			id := int64(rec["id"].(float64))
			r := rows[id]
			if rec["metrics.test/nelbo"] != r.Metrics["test/nelbo"].Value {
				t.Errorf("run %d: test/nelbo %v, want %v", id, rec["metrics.test/nelbo"], r.Metrics["test/nelbo"].Value)
			}
			if beta, ok := r.Params["beta"]; ok != (rec["params.beta"] != nil) || (ok && rec["params.beta"] != float64(beta.(float64))) {
				t.Errorf("run %d: params.beta %v, want %v", id, rec["params.beta"], beta)
			}
			if rec["tags.group"] != nilIfEmpty(r.Tags["group"]) {
				t.Errorf("run %d: tags.group %v", id, rec["tags.group"])
			}
			if ts, _ := rec["created"].(string); ts == "" {
				t.Errorf("run %d: created %v", id, rec["created"])
			}
		}
		// Without --columns: every attribute, param, metric and tag.
		header, _ := csvIDs(t, e.ok("runs", "list", "--format", "csv"))
		for _, want := range []string{"id", "status", "params.beta", "params.train.lr", "metrics.test/nelbo", "metrics.train/loss", "tags.group", "tags.note"} {
			if !slices.Contains(header, want) {
				t.Errorf("default CSV columns lack %s: %v", want, header)
			}
		}
	})

	t.Run("bad expressions", func(t *testing.T) {
		tests := []struct {
			args  []string
			msg   string
			expr  string
			caret int // the column the ^ is under, from 1
		}{
			{[]string{"--filter", "params.beta = 4 AND )"}, "filter: unexpected ')'", "params.beta = 4 AND )", 21},
			{[]string{"--filter", "famly = 'vae'"}, "did you mean family?", "famly = 'vae'", 1},
			{[]string{"--filter", "metrics.test/nelbo < 'big'"}, "is a number", "metrics.test/nelbo < 'big'", 22},
			{[]string{"--order-by", "metrics.test/nelbo up"}, "order by: unexpected", "metrics.test/nelbo up", 20},
			{[]string{"--columns", "id,,name"}, "columns: unexpected ','", "id,,name", 4},
		}
		for _, tc := range tests {
			code := e.run(append([]string{"runs", "list"}, tc.args...)...)
			// Exit 2: the expression is part of the command line, like an
			// unparsable flag value; 1 is for commands that ran and failed.
			if code != 2 {
				t.Errorf("%v: exit %d, want 2 (usage)", tc.args, code)
			}
			lines := strings.Split(strings.TrimSuffix(e.stderr, "\n"), "\n")
			if len(lines) != 3 || !strings.HasPrefix(lines[0], "vaexp: ") || !strings.Contains(lines[0], tc.msg) ||
				!strings.HasSuffix(lines[0], fmt.Sprintf("at column %d", tc.caret)) {
				t.Errorf("%v: stderr is not message + expression + caret:\n%s", tc.args, e.stderr)
				continue
			}
			if lines[1] != "  "+tc.expr {
				t.Errorf("%v: expression line %q", tc.args, lines[1])
			}
			if want := strings.Repeat(" ", 2+tc.caret-1) + "^"; lines[2] != want {
				t.Errorf("%v: caret line %q, want %q", tc.args, lines[2], want)
			}
			if e.stdout != "" {
				t.Errorf("%v: stdout %q", tc.args, e.stdout)
			}
		}
	})
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func TestRunsCompare(t *testing.T) {
	e := fixtureEnv(t)
	fig := filepath.Join(e.dir, "compare.png")
	out := e.ok("runs", "compare", "1", "2", "3", "--out", fig, "--metric", "train_loss")
	if strings.Contains(out, "\x1b[") {
		t.Errorf("ANSI codes in output that is not a terminal:\n%s", out)
	}
	sections := parseComparison(t, out)
	var marked, plain []string
	for _, row := range sections["params"] {
		if row.marked {
			marked = append(marked, row.key)
		} else {
			plain = append(plain, row.key)
		}
	}
	// Runs 1, 2, 3 differ only in beta (1, 1, 4) and seed (1, 2, 1).
	if want := []string{"beta", "seed"}; !slices.Equal(marked, want) {
		t.Errorf("marked params %v, want %v\n%s", marked, want, out)
	}
	if !slices.Contains(plain, "latent_dim") || !slices.Contains(plain, "train.lr") || !slices.Contains(plain, "model") {
		t.Errorf("unmarked params %v lack the shared ones", plain)
	}
	// The marks agree with the tracker's comparison.
	cmp, err := e.open().Compare(1, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, cr := range cmp.Params {
		i := slices.IndexFunc(sections["params"], func(r cmpLine) bool { return r.key == cr.Key })
		if i < 0 {
			t.Errorf("param %s missing from the table", cr.Key)
			continue
		}
		r := sections["params"][i]
		if r.marked != cr.Differs {
			t.Errorf("param %s marked %v, differs %v", cr.Key, r.marked, cr.Differs)
		}
		for j, v := range cr.Values {
			if r.values[j] != cellText(v, v != nil) {
				t.Errorf("param %s run %d: %q, want %v", cr.Key, cmp.Runs[j].ID, r.values[j], v)
			}
		}
	}
	if g := sections["tags"]; len(g) != 1 || g[0].key != "group" || !g[0].marked || !slices.Equal(g[0].values, []string{"a", "a", "b"}) {
		t.Errorf("tags section %+v", g)
	}
	if m := sections["final metrics"]; !slices.ContainsFunc(m, func(r cmpLine) bool { return r.key == "test/nelbo" && r.marked }) {
		t.Errorf("final metrics lack a marked test/nelbo: %+v", m)
	}
	if !strings.Contains(lastLine(out), "wrote "+fig+" (train/loss of 3 runs)") {
		t.Errorf("last line %q", lastLine(out))
	}
	checkPNGFile(t, fig)

	// A missing value differs too: run 5 (a plain VAE) has no beta.
	sections = parseComparison(t, e.ok("runs", "compare", "1", "last"))
	for _, r := range sections["params"] {
		if want := r.key == "beta" || r.key == "model" || r.key == "capacity_max" || r.key == "capacity_steps" || r.key == "gamma"; r.marked != want {
			t.Errorf("compare 1 5: param %s marked %v", r.key, r.marked)
		}
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"1", "99"}, 1, "run 99 not found"},
		{[]string{"1"}, 2, "two or more"},
		{[]string{"1", "1"}, 2, "two different runs"},
		{[]string{"1", "2", "--metric", "nope", "--out", filepath.Join(e.dir, "nope.png")}, 1, "train/loss"},
		{[]string{"1", "2", "--metric", "train/kl"}, 2, "--out"},
		{[]string{"1", "2", "--out", filepath.Join(e.dir, "x.gif")}, 2, ".png"},
	} {
		if code := e.run(append([]string{"runs", "compare"}, tc.args...)...); code != tc.code || !strings.Contains(e.stderr, tc.want) {
			t.Errorf("compare %v: exit %d, stderr %q; want %d and %q", tc.args, code, e.stderr, tc.code, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(e.dir, "nope.png")); err == nil {
		t.Error("a failed compare wrote its figure")
	}
}

// cmpLine is one key row of `runs compare` output.
type cmpLine struct {
	key    string
	marked bool
	values []string
}

// parseComparison splits compare output into its sections.
func parseComparison(t *testing.T, out string) map[string][]cmpLine {
	t.Helper()
	sections := map[string][]cmpLine{}
	section := ""
	for _, line := range strings.Split(out, "\n") {
		switch {
		case line == "" || strings.HasPrefix(line, "wrote "):
		case !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "*"):
			section = strings.TrimSpace(line)
		case section != "":
			f := strings.Fields(strings.TrimPrefix(line, "*"))
			sections[section] = append(sections[section], cmpLine{key: f[0], marked: strings.HasPrefix(line, "*"), values: f[1:]})
		}
	}
	if len(sections["params"]) == 0 {
		t.Fatalf("no params section in:\n%s", out)
	}
	return sections
}

// TestCompareBold checks the terminal style: bold exactly on the marked rows.
func TestCompareBold(t *testing.T) {
	cmp := tracker.Comparison{
		Runs: []tracker.RunRow{{Run: tracker.Run{ID: 1, Status: "finished"}}, {Run: tracker.Run{ID: 2, Status: "finished"}}},
		Params: []tracker.CompareRow{
			{Key: "beta", Values: []any{1.0, 4.0}, Differs: true},
			{Key: "lr", Values: []any{0.001, 0.001}},
		},
	}
	var plain, bold bytes.Buffer
	if err := writeComparison(&plain, cmp, false); err != nil {
		t.Fatal(err)
	}
	if err := writeComparison(&bold, cmp, true); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b") {
		t.Errorf("plain output has escape codes:\n%s", plain.String())
	}
	var boldLines []string
	for _, line := range strings.Split(bold.String(), "\n") {
		if strings.Contains(line, "\x1b[1m") {
			boldLines = append(boldLines, line)
		}
	}
	if len(boldLines) != 1 || !strings.HasPrefix(boldLines[0], "\x1b[1m* beta") || !strings.HasSuffix(boldLines[0], "\x1b[0m") {
		t.Errorf("bold lines %q, want the beta row only", boldLines)
	}
	stripped := strings.NewReplacer("\x1b[1m", "", "\x1b[0m", "").Replace(bold.String())
	if stripped != plain.String() {
		t.Errorf("styling changed the text:\n%s\nvs\n%s", stripped, plain.String())
	}
}

func TestRunsGroup(t *testing.T) {
	e := fixtureEnv(t)
	rows := fixtureRows(t, e)
	fig := filepath.Join(e.dir, "group.png")
	out := e.ok("runs", "group", "--by", "params.beta", "--metric", "metrics.test/nelbo", "--out", fig)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if f := strings.Fields(lines[0]); !slices.Equal(f, []string{"params.beta", "N", "MEAN", "STD", "MIN", "MAX", "MISSING", "RUNS"}) {
		t.Fatalf("header %v\n%s", f, out)
	}
	// The expected statistics, from the values read through the tracker.
	stats := func(ids ...int64) []string {
		var vs []float64
		for _, id := range ids {
			vs = append(vs, rows[id].Metrics["test/nelbo"].Value)
		}
		mean := (vs[0] + vs[1]) / 2
		std := math.Abs(vs[0]-vs[1]) / math.Sqrt2 // sample std of two values
		return []string{"2", formatValue(mean), formatValue(std), formatValue(min(vs[0], vs[1])), formatValue(max(vs[0], vs[1])), "0"}
	}
	want := map[string][]string{
		"1":      append(stats(1, 2), "1-2"),
		"4":      append(stats(3, 4), "3-4"),
		"(none)": {"1", formatValue(rows[5].Metrics["test/nelbo"].Value), "-", formatValue(rows[5].Metrics["test/nelbo"].Value), formatValue(rows[5].Metrics["test/nelbo"].Value), "0", "5"},
	}
	order := []string{"1", "4", "(none)"}
	for i, label := range order {
		f := strings.Fields(lines[1+i])
		if f[0] != label {
			t.Errorf("group %d is %q, want %q", i, f[0], label)
			continue
		}
		// The std is compared loosely: gonum and the formula may differ in the last bit.
		got, exp := f[1:], want[label]
		if len(got) != len(exp) {
			t.Errorf("group %s: %v, want %v", label, got, exp)
			continue
		}
		for j := range got {
			if j == 2 && exp[j] != "-" {
				g, _ := strconv.ParseFloat(got[j], 64)
				x, _ := strconv.ParseFloat(exp[j], 64)
				if math.Abs(g-x) > 1e-4*x {
					t.Errorf("group %s std %s, want %s", label, got[j], exp[j])
				}
				continue
			}
			if got[j] != exp[j] {
				t.Errorf("group %s: column %d is %s, want %s (row %v)", label, j+1, got[j], exp[j], got)
			}
		}
	}
	if !strings.Contains(out, "wrote "+fig+" (2 groups, 4 runs); 1 run without params.beta left out") {
		t.Errorf("figure line:\n%s", out)
	}
	checkPNGFile(t, fig)

	out = e.ok("runs", "group", "--by", "tags.group", "--metric", "test_nelbo", "--filter", "family = 'beta-vae'")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[1], "a ") || !strings.HasPrefix(lines[2], "b ") {
		t.Errorf("group by tags.group of the beta-vae runs:\n%s", out)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--metric", "metrics.test/nelbo"}, 2, "--by"},
		{[]string{"--by", "famly"}, 2, "did you mean family?"},
		{[]string{"--by", "family", "--metric", "tags.group"}, 2, "not numeric"},
		{[]string{"--by", "family", "--filter", "seed >"}, 2, "filter:"},
		{[]string{"--by", "family", "--metric", "metrics.nope", "--out", filepath.Join(e.dir, "nope.png")}, 1, "no group has a value"},
	} {
		if code := e.run(append([]string{"runs", "group"}, tc.args...)...); code != tc.code || !strings.Contains(e.stderr, tc.want) || e.stdout != "" {
			t.Errorf("group %v: exit %d, stdout %q, stderr %q; want %d and %q", tc.args, code, e.stdout, e.stderr, tc.code, tc.want)
		}
	}
}

func TestRunsExport(t *testing.T) {
	e := fixtureEnv(t)
	rows := fixtureRows(t, e)
	var all []tracker.RunRow
	for _, r := range rows {
		all = append(all, r)
	}
	cols := tracker.DefaultColumns(all)

	file := filepath.Join(e.dir, "runs.csv")
	if out := e.ok("runs", "export", "--out", file); out != "wrote "+file+" (5 runs, csv)\n" {
		t.Errorf("export output %q", out)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 6 || len(recs[0]) != len(cols) {
		t.Fatalf("%d records of %d columns, want 6 of %d", len(recs), len(recs[0]), len(cols))
	}
	for _, rec := range recs[1:] {
		id, _ := strconv.ParseInt(rec[0], 10, 64)
		r := rows[id]
		for i, col := range cols {
			if recs[0][i] != col.String() {
				t.Fatalf("column %d is %q, want %q", i, recs[0][i], col)
			}
			v, ok := col.Value(r)
			switch x := v.(type) {
			case float64:
				got, err := strconv.ParseFloat(rec[i], 64)
				if err != nil || got != x {
					t.Errorf("run %d %s: %q, want exactly %v", id, col, rec[i], x)
				}
			case string:
				if rec[i] != x {
					t.Errorf("run %d %s: %q, want %q", id, col, rec[i], x)
				}
			case nil:
				if ok || rec[i] != "" {
					t.Errorf("run %d %s: %q, want empty", id, col, rec[i])
				}
			}
		}
	}

	file = filepath.Join(e.dir, "beta4.json")
	e.ok("runs", "export", "--filter", "params.beta = 4", "--columns", "id,params.beta,metrics.test/nelbo", "--order-by", "id", "--out", file)
	data, _ := os.ReadFile(file)
	var got []map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, data)
	}
	if len(got) != 2 || got[0]["id"] != 3.0 || got[1]["id"] != 4.0 || got[0]["params.beta"] != 4.0 ||
		got[1]["metrics.test/nelbo"] != rows[4].Metrics["test/nelbo"].Value {
		t.Errorf("JSON export %v", got)
	}

	out := e.ok("runs", "export", "--out", "-", "--format", "json", "--columns", "id", "--filter", "seed = 2")
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 2 {
		t.Errorf("export to stdout: %v\n%s", err, out)
	}
	if _, ids := csvIDs(t, e.ok("runs", "export", "--out", "-", "--columns", "id")); len(ids) != 5 {
		t.Errorf("export - defaults to CSV of every run: %v", ids)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--out", filepath.Join(e.dir, "runs.txt")}, ".csv or .json"},
		{[]string{"--out", filepath.Join(e.dir, "r.csv"), "--format", "json"}, "give one of them"},
		{[]string{"--out", filepath.Join(e.dir, "r.csv"), "--format", "xml"}, "csv or json"},
		{[]string{}, "--out"},
	} {
		if code := e.run(append([]string{"runs", "export"}, tc.args...)...); code != 2 || !strings.Contains(e.stderr, tc.want) {
			t.Errorf("export %v: exit %d, stderr %q", tc.args, code, e.stderr)
		}
	}
	if entries, _ := os.ReadDir(e.dir); len(entries) != 2 {
		t.Errorf("files left behind: %v", names(entries))
	}
}

func TestRunsTag(t *testing.T) {
	e := fixtureCopy(t)
	if out := e.ok("runs", "tag", "2", "note=keep", "stage = final"); out != "run 2 tags: group=a, note=keep, stage=final\n" {
		t.Errorf("tag output %q", out)
	}
	ids := func(filter string) []int64 {
		_, ids := csvIDs(t, e.ok("runs", "list", "--filter", filter, "--columns", "id", "--format", "csv"))
		return ids
	}
	if got := ids("tags.note = 'keep'"); !slices.Equal(got, []int64{5, 2}) {
		t.Errorf("tagged runs %v, want [5 2]", got)
	}
	e.ok("runs", "tag", "last", "note=drop")
	e.ok("runs", "tag", "2", "--delete", "stage")
	if got := ids("tags.note = 'keep' OR tags.stage LIKE 'fin%'"); !slices.Equal(got, []int64{2}) {
		t.Errorf("after retagging: %v, want [2]", got)
	}
	if tags, _ := e.open().Tags(2); len(tags) != 2 || tags["note"] != "keep" || tags["group"] != "a" {
		t.Errorf("tags of run 2 in the database: %v", tags)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"2"}, 2, "key=value"},
		{[]string{"2", "novalue"}, 2, `"novalue"`},
		{[]string{"2", "=x"}, 2, "key=value"},
		{[]string{"99", "a=b"}, 1, "run 99 not found"},
	} {
		if code := e.run(append([]string{"runs", "tag"}, tc.args...)...); code != tc.code || !strings.Contains(e.stderr, tc.want) {
			t.Errorf("tag %v: exit %d, stderr %q", tc.args, code, e.stderr)
		}
	}
}

func TestRunsDelete(t *testing.T) {
	e := newEnv(t)
	e.ok(append(slices.Clone(tinyTrain), "--tag", "note=x")...)
	e.ok(tinyTrain...)
	db := e.open()
	dir1 := filepath.Join(e.runs, "1")
	if r, _ := db.Run(1); r.RunDir != dir1 {
		t.Fatalf("run 1 folder %q, want %q", r.RunDir, dir1)
	}

	// "n", or no answer at all, keeps the run.
	for _, answer := range []string{"n\n", ""} {
		e.stdin = answer
		out := e.ok("runs", "delete", "1")
		if out != "kept run 1\n" || !regexp.MustCompile(`^delete run 1 \(vae, finished, just now\)\? \[y/N\] $`).MatchString(e.stderr) {
			t.Errorf("answer %q: stdout %q, stderr %q", answer, out, e.stderr)
		}
	}
	if _, err := db.Run(1); err != nil {
		t.Fatal("a declined delete removed the run:", err)
	}
	if _, err := os.Stat(dir1); err != nil {
		t.Fatal("a declined delete removed the folder:", err)
	}

	// An unknown id among others: nothing is deleted.
	if e.run("runs", "delete", "1", "99", "--yes") != 1 || !strings.Contains(e.stderr, "run 99 not found") {
		t.Errorf("delete 1 99: exit %d, stderr %q", e.code, e.stderr)
	}
	if _, err := db.Run(1); err != nil {
		t.Fatal("delete with an unknown id removed run 1:", err)
	}

	// "y" deletes the rows of every table and the folder inside --out.
	e.stdin = "y\n"
	out := e.ok("runs", "delete", "1")
	if !strings.Contains(out, "deleted run 1") || !strings.Contains(out, "removed its folder "+dir1) {
		t.Errorf("delete output %q", out)
	}
	if _, err := db.Run(1); !errors.Is(err, tracker.ErrNotFound) {
		t.Errorf("run 1 still readable: %v", err)
	}
	if _, err := db.MetricHistory(1, "train/loss"); !errors.Is(err, tracker.ErrNotFound) {
		t.Errorf("metrics of run 1: %v", err)
	}
	if n, _ := db.Runs().Where("tags.note = 'x' OR id = 1").Count(); n != 0 {
		t.Errorf("%d rows of run 1 left", n)
	}
	if _, err := os.Stat(dir1); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("folder %s not removed: %v", dir1, err)
	}
	if r, err := db.Run(2); err != nil || r.Status != tracker.StatusFinished {
		t.Errorf("run 2 harmed: %v", err)
	}
	if h, _ := db.MetricHistory(2, "train/loss"); len(h) != 4 {
		t.Errorf("run 2 has %d train/loss points, want 4", len(h))
	}

	// A running run is refused, and kept.
	rec, err := db.StartRun(tracker.RunInfo{Family: "vae", Name: "live"})
	if err != nil {
		t.Fatal(err)
	}
	live := rec.RunID()
	if e.run("runs", "delete", "2", fmt.Sprint(live), "--yes") != 1 || !strings.Contains(e.stderr, "still running") ||
		!strings.Contains(e.stderr, "nothing was deleted") {
		t.Errorf("delete of a running run: exit %d, stderr %q", e.code, e.stderr)
	}
	for _, id := range []int64{2, live} {
		if _, err := db.Run(id); err != nil {
			t.Errorf("run %d gone after a refused delete: %v", id, err)
		}
	}
	if err := rec.Finish(tracker.StatusKilled, nil); err != nil {
		t.Fatal(err)
	}
	if out := e.ok("runs", "delete", fmt.Sprint(live), "-y"); !strings.Contains(out, "it had no folder") {
		t.Errorf("delete of a run without a folder: %q", out)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "RUN_ID"},
		{[]string{"first"}, 2, `"first"`},
		{[]string{"99", "--yes"}, 1, "run 99 not found"},
	} {
		if code := e.run(append([]string{"runs", "delete"}, tc.args...)...); code != tc.code || !strings.Contains(e.stderr, tc.want) {
			t.Errorf("delete %v: exit %d, stderr %q", tc.args, code, e.stderr)
		}
	}
}

// TestRunsDeleteOutside deletes a run whose folder is outside the runs
// folder: the rows go, the folder stays.
func TestRunsDeleteOutside(t *testing.T) {
	e := fixtureCopy(t)
	r, err := e.open().Run(3)
	if err != nil {
		t.Fatal(err)
	}
	out := e.ok("runs", "delete", "3", "--yes")
	if !strings.Contains(out, "kept its folder "+r.RunDir) || !strings.Contains(out, "outside the runs folder "+e.runs) {
		t.Errorf("delete output %q", out)
	}
	if _, err := os.Stat(r.RunDir); err != nil {
		t.Errorf("the folder outside --out was touched: %v", err)
	}
	if n, _ := e.open().Runs().Count(); n != 4 {
		t.Errorf("%d runs left, want 4", n)
	}
}

func TestWithin(t *testing.T) {
	root := t.TempDir()
	runs := filepath.Join(root, "runs")
	os.MkdirAll(filepath.Join(runs, "3"), 0o755)
	os.MkdirAll(filepath.Join(root, "runs2", "3"), 0o755)
	os.MkdirAll(filepath.Join(root, "other"), 0o755)
	os.Symlink(filepath.Join(root, "other"), filepath.Join(runs, "link"))
	tests := []struct {
		path string
		want bool
	}{
		{filepath.Join(runs, "3"), true},
		{filepath.Join(runs, "missing"), true},
		{runs, false},
		{runs + "/", false},
		{filepath.Join(runs, ".."), false},
		{filepath.Join(runs, "..", "other"), false},
		{filepath.Join(root, "runs2", "3"), false},
		{filepath.Join(runs, "link"), false}, // resolves outside
		{"/", false},
	}
	for _, tc := range tests {
		if got, err := within(tc.path, runs); err != nil || got != tc.want {
			t.Errorf("within(%q, runs) = %v, %v; want %v", tc.path, got, err, tc.want)
		}
	}
}

func TestAgo(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		d    time.Duration
		want string
	}{
		{10 * time.Second, "just now"}, {time.Minute, "1 minute ago"}, {59 * time.Minute, "59 minutes ago"},
		{3 * time.Hour, "3 hours ago"}, {47 * time.Hour, "47 hours ago"}, {50 * time.Hour, "2 days ago"},
		{-time.Hour, "just now"},
	}
	for _, tc := range tests {
		if got := ago(now.Add(-tc.d), now); got != tc.want {
			t.Errorf("ago(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
	if got := ago(time.Time{}, now); got != "start unknown" {
		t.Errorf("ago(zero) = %q", got)
	}
}

// TestRunsGroupParamsExcept groups by every param but the seed: the
// fixture's β = 1 and β = 4 pairs (two seeds each) and the plain VAE.
func TestRunsGroupParamsExcept(t *testing.T) {
	e := fixtureEnv(t)
	fig := filepath.Join(e.dir, "except.png")
	out := e.ok("runs", "group", "--by", "params.* except seed", "--out", fig)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if f := strings.Fields(lines[0]); f[0] != "params.*" || f[2] != "seed" || f[3] != "N" {
		t.Fatalf("header %v\n%s", f, out)
	}
	var groups []string
	for _, l := range lines[1:4] {
		f := strings.Fields(l)
		groups = append(groups, f[0]+" "+f[len(f)-1]) // first label word, runs
	}
	if want := []string{"beta=1 1-2", "beta=4 3-4", "beta=- 5"}; !slices.Equal(groups, want) {
		t.Errorf("groups %v, want %v\n%s", groups, want, out)
	}
	if _, err := os.Stat(fig); err != nil || !strings.Contains(out, "wrote "+fig) {
		t.Errorf("figure: %v\n%s", err, out)
	}
	if code := e.run("runs", "group", "--by", "tags.*"); code != 2 || !strings.Contains(e.stderr, "only wildcard is params.*") {
		t.Errorf("tags.*: exit %d, %s", code, e.stderr)
	}
}
