package tracker

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// fixture is a small database whose runs differ in exactly the ways the
// filter tests probe. ids are 1..6 in creation order.
//
//	id family    status   sweep  params                                         test/nelbo last (min)  tags
//	1  vae       finished        beta=1.0 lr=0.001 opt=adam amsgrad=true latent=10  95 (90)            note=baseline
//	2  beta-vae  finished grid   beta=4 (int) lr=0.01 opt=sgd latent=20              88 (85)            note=keep-1
//	3  beta-vae  failed   grid   beta=4.0 opt=adam                                  NaN (91)
//	4  ae        killed          opt="4" (a string)                                 -
//	5  vae       finished        beta=16 opt=rmsprop                                100 (100)          note=keep-2 'odd key'=x
//	6  vae       running         (none)                                             -
func fixture(t testing.TB) *DB {
	t.Helper()
	db, _ := openTemp(t)
	type spec struct {
		info    RunInfo
		metrics map[string][]float64 // key -> values at steps 0..
		tags    map[string]string
		status  string
	}
	specs := []spec{
		{RunInfo{Family: "vae", Params: map[string]any{"beta": 1.0, "lr": 0.001, "opt": "adam", "amsgrad": true, "latent": 10}},
			map[string][]float64{"test/nelbo": {90, 95}, "val/nelbo": {99, 97}}, map[string]string{"note": "baseline"}, StatusFinished},
		{RunInfo{Family: "beta-vae", Sweep: "grid", Seed: 1, Params: map[string]any{"beta": 4, "lr": 0.01, "opt": "sgd", "latent": 20}},
			map[string][]float64{"test/nelbo": {85, 88}}, map[string]string{"note": "keep-1"}, StatusFinished},
		{RunInfo{Family: "beta-vae", Sweep: "grid", Seed: 2, Params: map[string]any{"beta": 4.0, "opt": "adam"}},
			map[string][]float64{"test/nelbo": {91, math.NaN()}}, nil, StatusFailed},
		{RunInfo{Family: "ae", Params: map[string]any{"opt": "4"}}, nil, nil, StatusKilled},
		{RunInfo{Family: "vae", Name: "odd", Params: map[string]any{"beta": 16, "opt": "rmsprop"}},
			map[string][]float64{"test/nelbo": {100}}, map[string]string{"note": "keep-2", "odd key": "x"}, StatusFinished},
		{RunInfo{Family: "vae"}, nil, nil, StatusRunning},
	}
	for i, s := range specs {
		rec, err := db.StartRun(s.info)
		if err != nil {
			t.Fatal(err)
		}
		if rec.RunID() != int64(i+1) {
			t.Fatalf("run id %d, want %d", rec.RunID(), i+1)
		}
		for k, vs := range s.metrics {
			for step, v := range vs {
				rec.LogMetric(k, int64(step), v)
			}
		}
		for k, v := range s.tags {
			if err := rec.SetTag(k, v); err != nil {
				t.Fatal(err)
			}
		}
		if s.status == StatusRunning {
			if err := rec.Flush(); err != nil {
				t.Fatal(err)
			}
			rec.stopFlusher()
			continue
		}
		if err := rec.Finish(s.status, nil); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func ids(t *testing.T, q *Query) []int64 {
	t.Helper()
	got, err := q.IDs()
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func sorted(xs []int64) []int64 {
	ys := slices.Clone(xs)
	slices.Sort(ys)
	if ys == nil {
		ys = []int64{}
	}
	return ys
}

func TestFilterSemantics(t *testing.T) {
	db := fixture(t)
	for _, tc := range []struct {
		expr string
		want []int64
	}{
		{"", []int64{1, 2, 3, 4, 5, 6}},
		{"   ", []int64{1, 2, 3, 4, 5, 6}},
		// Numeric params compare as numbers: int 4 and float 4.0 both match.
		{"params.beta = 4", []int64{2, 3}},
		{"params.beta == 4.0", []int64{2, 3}},
		{"params.beta = '4'", []int64{2, 3}}, // MLflow habit: quoted numbers
		{`params.beta = "4"`, []int64{2, 3}},
		{"params.beta > 1", []int64{2, 3, 5}},
		{"params.beta >= 1 AND params.beta < 16", []int64{1, 2, 3}},
		{"params.lr < 0.01", []int64{1}},
		{"params.lr <= 1e-2", []int64{1, 2}},
		// A quoted number also matches a string param with that text; a bare one does not.
		{"params.opt = '4'", []int64{4}},
		{"params.opt = 4", []int64{}},
		// != means "has it, and it differs"; NOT (...) also takes runs lacking it.
		{"params.beta != 4", []int64{1, 5}},
		{"params.beta <> 4", []int64{1, 5}},
		{"NOT params.beta = 4", []int64{1, 4, 5, 6}},
		{"params.beta IN (1, 16)", []int64{1, 5}},
		{"params.beta NOT IN (1, 16)", []int64{2, 3}},
		{"params.opt IN ('adam', 'sgd')", []int64{1, 2, 3}},
		{"params.opt IN ('4', 'sgd')", []int64{2, 4}},
		{"params.opt LIKE 'ad%'", []int64{1, 3}},
		{"params.opt ILIKE 'AD%'", []int64{1, 3}},
		{"params.opt NOT LIKE 'ad%'", []int64{2, 4, 5}},
		{"params.amsgrad = true", []int64{1}},
		{"params.amsgrad = 'true'", []int64{1}},
		{"params.amsgrad = 1", []int64{1}},
		{"params.amsgrad != false", []int64{1}},
		{"params.latent IN (10, 20) AND params.lr > 0.005", []int64{2}},
		// Metrics: the last value by default; NaN fails every comparison but !=.
		{"metrics.test/nelbo < 90", []int64{2}},
		{"metrics.test_nelbo < 90", []int64{2}},
		{"metric.`test/nelbo` < 90", []int64{2}},
		{`metrics."test/nelbo" < 90`, []int64{2}},
		{"metrics.`test_nelbo` < 90", []int64{}}, // quoted: exactly that key
		{"metrics.test/nelbo >= 0", []int64{1, 2, 5}},
		{"metrics.test/nelbo != 88", []int64{1, 3, 5}},
		{"metrics.test/nelbo = '88'", []int64{2}},
		{"min(metrics.test/nelbo) < 91", []int64{1, 2}},
		{"MIN(metrics.test_nelbo) <= 91", []int64{1, 2, 3}},
		{"max(metrics.test/nelbo) >= 95", []int64{1, 5}},
		{"last(metrics.test/nelbo) >= 95", []int64{1, 5}},
		{"metrics.val_nelbo = 97", []int64{1}},
		{"metrics.test/nelbo IN (88, 100)", []int64{2, 5}},
		// Tags.
		{"tags.note = 'baseline'", []int64{1}},
		{"tags.note LIKE 'keep%'", []int64{2, 5}},
		{"tags.note != 'baseline'", []int64{2, 5}},
		{"tags.`odd key` = 'x'", []int64{5}},
		{"tags.'odd key' = 'x'", []int64{5}},
		{`tags."odd key" = "x"`, []int64{5}},
		{"NOT tags.note LIKE 'keep%'", []int64{1, 3, 4, 6}},
		// Attributes.
		{"status = 'finished'", []int64{1, 2, 5}},
		{`status = "failed" OR status = 'killed'`, []int64{3, 4}},
		{"status != 'finished'", []int64{3, 4, 6}},
		{"family IN ('vae', 'ae')", []int64{1, 4, 5, 6}},
		{"model = 'ae'", []int64{4}},
		{"attributes.family = 'ae'", []int64{4}},
		{"name LIKE 'run-%'", []int64{1, 2, 3, 4, 6}},
		{"name NOT LIKE 'run-%'", []int64{5}},
		{"name LIKE 'RUN-_'", []int64{1, 2, 3, 4, 6}}, // LIKE ignores ASCII case
		{"id = 2", []int64{2}},
		{"id IN (1, 3)", []int64{1, 3}},
		{"id > '4'", []int64{5, 6}},
		{"seed >= 1", []int64{2, 3}},
		{"sweep = 'grid'", []int64{2, 3}},
		{"sweep = ''", []int64{1, 4, 5, 6}},
		{"experiment = 'default'", []int64{1, 2, 3, 4, 5, 6}},
		{"created > '2000-01-01'", []int64{1, 2, 3, 4, 5, 6}},
		{"created > '2000-01-01T00:00:00Z' AND created < '2999-12-31 23:59'", []int64{1, 2, 3, 4, 5, 6}},
		{"created > '-1h'", []int64{1, 2, 3, 4, 5, 6}},
		{"created > '-1d'", []int64{1, 2, 3, 4, 5, 6}},
		{"created < '-1h'", []int64{}},
		{"created > 946684800", []int64{1, 2, 3, 4, 5, 6}},
		{"ended > '2000-01-01'", []int64{1, 2, 3, 4, 5}},
		{"NOT ended > '2000-01-01'", []int64{6}},
		{"ended != 0", []int64{1, 2, 3, 4, 5}},
		{"error LIKE '%'", []int64{}},
		// Logic: AND binds tighter than OR; keywords in any case.
		{"status = 'finished' OR status = 'failed' AND family = 'ae'", []int64{1, 2, 5}},
		{"(status = 'finished' OR status = 'failed') AND family = 'beta-vae'", []int64{2, 3}},
		{"(params.beta >= 4 and not status = 'failed') or tags.note = 'baseline'", []int64{1, 2, 5}},
		{"NOT NOT status = 'killed'", []int64{4}},
		{"((((status = 'killed'))))", []int64{4}},
		{"params.beta = 4 AND NOT (metrics.test/nelbo < 90 OR sweep != 'grid')", []int64{3}},
	} {
		got, err := db.Runs().Where(tc.expr).IDs()
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if !reflect.DeepEqual(sorted(got), tc.want) {
			t.Errorf("%s: runs %v, want %v", tc.expr, sorted(got), tc.want)
		}
		n, err := db.Runs().Where(tc.expr).Count()
		if err != nil || n != len(tc.want) {
			t.Errorf("%s: Count = %d, %v; want %d", tc.expr, n, err, len(tc.want))
		}
	}
	// Where calls are ANDed.
	if got := sorted(ids(t, db.Runs().Where("family = 'vae'").Where("status = 'finished'"))); !reflect.DeepEqual(got, []int64{1, 5}) {
		t.Errorf("two Wheres: %v", got)
	}
}

func TestFilterErrors(t *testing.T) {
	deep := strings.Repeat("(", 100) + "status = 'x'" + strings.Repeat(")", 100)
	many := "id = 1" + strings.Repeat(" OR id = 1", 300)
	for _, tc := range []struct {
		expr string
		col  int
		want string
	}{
		{"params.beta = 4 AND )", 21, "unexpected ')'"},
		{"params.beta = 4 AND (family = 'x'))", 35, "unexpected ')', expected AND, OR or the end"},
		{"(params.beta = 4", 17, "missing ')' to close the '(' of column 1"},
		{"params.beta =", 14, "unexpected end of input, expected a value"},
		{"params.beta = adam", 15, "quote text values: 'adam'"},
		{"params.beta 4", 13, "expected a comparison"},
		{"params.beta = 'adam", 15, "unterminated 'string'"},
		{`params.beta = "adam`, 15, `unterminated "string"`},
		{"tags.`odd = 'x'", 6, "unterminated backquoted key"},
		{"params.beta ! 4", 13, "did you mean '!='"},
		{"params.beta = 4 params.lr = 1", 17, `unexpected "params.lr", expected AND, OR`},
		{"params.beta = 4 AND", 20, "found end of input"},
		{"params.x IN (1, 2", 18, "missing ')' to close the IN list of column 13"},
		{"params.x IN 1", 13, "'(' after IN"},
		{"params.x IN ()", 14, "expected a value"},
		{"params.x NOT = 1", 14, "IN or LIKE after NOT"},
		{"params.x LIKE 3", 15, "quoted pattern"},
		{"params.amsgrad > true", 18, "compares with = or != only"},
		{"famly = 'vae'", 1, `unknown attribute "famly" (did you mean family?`},
		{"beta = 4", 1, "keys are written params.beta"},
		{"parms.beta = 4", 1, `unknown namespace "parms" in parms.beta (did you mean params.beta?`},
		{"params. = 4", 1, `missing key after "params."`},
		{"attributes.nope = 1", 1, `unknown attribute "nope"`},
		{"`metrics.x` < 1", 1, "backquotes go around a key"},
		{"median(metrics.x) < 1", 1, "unknown function median"},
		{"min(params.x) < 1", 1, "min() applies to metrics only"},
		{"min(metrics.x < 1", 15, "expected ')' to close min("},
		{"status = 'done'", 10, `status "done" is not valid (use one of running, finished`},
		{"status IN ('finished', 'Finished')", 24, `status "Finished" is not valid`},
		{"metrics.x LIKE 'a%'", 1, "LIKE applies to text, and metrics.x is a number"},
		{"metrics.x = 'low'", 13, "metrics.x is a number; 'low' is not"},
		{"metrics.x = true", 13, "is a number; true is not"},
		{"id = 'two'", 6, "id is a number; 'two' is not"},
		{"tags.n < 3", 10, "tags.n is text; compare it with a quoted value ('3')"},
		{"created > 'yesterday'", 11, "created needs a time"},
		{"created LIKE '2026%'", 1, "LIKE applies to text, and created is a time"},
		{"params.x = 1x", 12, `malformed number "1x"`},
		{"params.x = 1e999", 12, "out of range"},
		{"params.x = 1 ; DROP TABLE runs", 14, "unexpected ';'"},
		{"params.β = 'ü' )", 16, "unexpected ')'"}, // columns count characters, not bytes
		{"AND status = 'x'", 1, "unexpected \"AND\", expected a field"},
		{"4 < params.x", 1, "unexpected number 4, expected a field"},
		{deep, 65, "nesting deeper than 64 levels"},
		{many, 2561, "more than 256 conditions"},
	} {
		_, err := ParseFilter(tc.expr)
		var fe *FilterError
		if !errors.As(err, &fe) {
			t.Errorf("%s: error %v, want a *FilterError", clip(tc.expr, 60), err)
			continue
		}
		if fe.Column != tc.col || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "filter: ") ||
			!strings.HasSuffix(err.Error(), " at column "+itoa(tc.col)) {
			t.Errorf("%s:\n got %q (column %d)\nwant %q at column %d", clip(tc.expr, 60), err, fe.Column, tc.want, tc.col)
		}
	}
}

func itoa(i int) string { return formatValue(int64(i)) }

func TestFilterErrorCaret(t *testing.T) {
	_, err := ParseFilter("params.beta = 4 AND (x")
	var fe *FilterError
	if !errors.As(err, &fe) {
		t.Fatal(err)
	}
	want := "params.beta = 4 AND (x\n                     ^"
	if got := fe.Caret(); got != want {
		t.Errorf("caret:\n%s\nwant\n%s", got, want)
	}
	// A long expression is clipped around the column.
	long := strings.Repeat("status = 'finished' AND ", 20) + "oops"
	_, err = ParseFilter(long)
	if !errors.As(err, &fe) {
		t.Fatal(err)
	}
	lines := strings.Split(fe.Caret(), "\n")
	if len(lines) != 2 || len([]rune(lines[0])) > 75 {
		t.Fatalf("caret lines %q", lines)
	}
	at := len([]rune(lines[1])) - 1
	if got := string([]rune(lines[0])[at:]); !strings.HasPrefix(got, "oops") {
		t.Errorf("caret points at %q:\n%s", got, fe.Caret())
	}
}

func TestOrderBy(t *testing.T) {
	db := fixture(t)
	for _, tc := range []struct {
		order []string
		want  []int64
	}{
		{nil, []int64{6, 5, 4, 3, 2, 1}}, // newest first
		{[]string{"id"}, []int64{1, 2, 3, 4, 5, 6}},
		{[]string{"id desc"}, []int64{6, 5, 4, 3, 2, 1}},
		// NaN (3) and missing (4, 6) last, either way; ties newest first.
		{[]string{"metrics.test/nelbo asc"}, []int64{2, 1, 5, 6, 4, 3}},
		{[]string{"metrics.test_nelbo DESC"}, []int64{5, 1, 2, 6, 4, 3}},
		{[]string{"min(metrics.test/nelbo)"}, []int64{2, 1, 3, 5, 6, 4}},
		// Numbers in numeric order (16 after 4), then strings, then missing.
		{[]string{"params.beta"}, []int64{1, 3, 2, 5, 6, 4}},
		{[]string{"params.beta desc", "id"}, []int64{5, 2, 3, 1, 4, 6}},
		{[]string{"params.beta desc, id"}, []int64{5, 2, 3, 1, 4, 6}},
		// opt is a string everywhere ("4" too): by text, missing (6) last.
		{[]string{"params.opt, id desc"}, []int64{4, 3, 1, 5, 2, 6}},
		{[]string{"tags.note desc"}, []int64{5, 2, 1, 6, 4, 3}},
		{[]string{"family", "status desc"}, []int64{4, 2, 3, 6, 5, 1}},
	} {
		got := ids(t, db.Runs().OrderBy(tc.order...))
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("order %q: %v, want %v", tc.order, got, tc.want)
		}
	}
	q := db.Runs().Where("family = 'vae'").OrderBy("id")
	if got := ids(t, q.Limit(2)); !reflect.DeepEqual(got, []int64{1, 5}) {
		t.Errorf("limit 2: %v", got)
	}
	if got := ids(t, q.Limit(2).Offset(1)); !reflect.DeepEqual(got, []int64{5, 6}) {
		t.Errorf("limit 2 offset 1: %v", got)
	}
	if got := ids(t, q.Offset(2)); !reflect.DeepEqual(got, []int64{6}) {
		t.Errorf("offset 2: %v", got)
	}
	if n, err := q.Limit(1).Count(); err != nil || n != 3 {
		t.Errorf("Count with limit = %d, %v; want 3", n, err)
	}
	// The base query is unchanged by refinements.
	if got := ids(t, q); !reflect.DeepEqual(got, []int64{1, 5, 6}) {
		t.Errorf("base query: %v", got)
	}
	for _, bad := range []struct{ order, want string }{
		{"metrics.x sideways", `order by: unexpected "sideways", expected ASC, DESC, ',' or the end at column 11`},
		{"nope", `order by: unknown attribute "nope"`},
		{"id,", "order by: expected a field such as params.beta, metrics.test/nelbo or status, found end of input at column 4"},
	} {
		_, err := db.Runs().OrderBy(bad.order).All()
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("OrderBy(%q) = %v, want %q", bad.order, err, bad.want)
		}
	}
	if _, err := db.Runs().Where("x ==").Count(); err == nil || !strings.HasPrefix(err.Error(), "filter: ") {
		t.Errorf("bad Where: %v", err)
	}
}

func TestAllRows(t *testing.T) {
	db := fixture(t)
	rows, err := db.Runs().Where("id IN (1, 4)").OrderBy("id").All()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	r := rows[0]
	if r.ID != 1 || r.Family != "vae" || r.Status != StatusFinished || r.Experiment != "default" || r.Name != "run-1" {
		t.Errorf("run = %+v", r.Run)
	}
	wantParams := map[string]any{"beta": 1.0, "lr": 0.001, "opt": "adam", "amsgrad": true, "latent": int64(10)}
	if !reflect.DeepEqual(r.Params, wantParams) {
		t.Errorf("params = %#v", r.Params)
	}
	if m := r.Metrics["test/nelbo"]; m != (LatestMetric{Key: "test/nelbo", Step: 1, Value: 95, Min: 90, Max: 95}) || len(r.Metrics) != 2 {
		t.Errorf("metrics = %+v", r.Metrics)
	}
	if !reflect.DeepEqual(r.Tags, map[string]string{"note": "baseline"}) {
		t.Errorf("tags = %v", r.Tags)
	}
	if e := rows[1]; e.ID != 4 || len(e.Metrics) != 0 || len(e.Tags) != 0 || e.Params["opt"] != "4" {
		t.Errorf("run 4 = %+v", e)
	}
	// Everything, via the whole-table path.
	rows, err = db.Runs().All()
	if err != nil || len(rows) != 6 || rows[5].Params["lr"] != 0.001 || rows[1].Tags["odd key"] != "x" {
		t.Errorf("All() = %d rows, %v", len(rows), err)
	}
	if rows, err := db.Runs().Where("id = 99").All(); err != nil || len(rows) != 0 {
		t.Errorf("no match = %v, %v", rows, err)
	}
	// Fields loads only the keys named, for many runs (whole tables) and few.
	fs, err := ParseFields("status, params.beta, min(metrics.test_nelbo)")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []*Query{db.Runs(), db.Runs().Where("id = 2")} {
		rows, err := q.Fields(fs...).OrderBy("id desc").All()
		if err != nil {
			t.Fatal(err)
		}
		r := rows[len(rows)-1]
		if r.ID == 1 {
			r = rows[len(rows)-2]
		}
		if r.ID != 2 || !reflect.DeepEqual(r.Params, map[string]any{"beta": int64(4)}) || len(r.Metrics) != 1 || r.Metrics["test/nelbo"].Min != 85 ||
			len(r.Tags) != 0 || r.Status != StatusFinished {
			t.Errorf("with Fields: %+v", r)
		}
	}
	if rows, err := db.Runs().Fields().All(); err != nil || len(rows) != 6 || len(rows[0].Params)+len(rows[5].Params) != 0 {
		t.Errorf("Fields() with none: %v, %v", rows, err)
	}
}

func TestFieldParseAndValue(t *testing.T) {
	db := fixture(t)
	rows, err := db.Runs().OrderBy("id").All()
	if err != nil {
		t.Fatal(err)
	}
	r2, r3 := rows[1], rows[2]
	for _, tc := range []struct {
		in, str string
		row     RunRow
		want    any
	}{
		{"id", "id", r2, int64(2)},
		{"Status", "status", r3, StatusFailed},
		{"model", "family", r2, "beta-vae"},
		{"sweep", "sweep", r2, "grid"},
		{"params.beta", "params.beta", r2, int64(4)},
		{"param.beta", "params.beta", r3, 4.0},
		{"metrics.test_nelbo", "metrics.test_nelbo", r2, 88.0},
		{"min( metrics.test/nelbo )", "min(metrics.test/nelbo)", r2, 85.0},
		{"max(metrics.`test/nelbo`)", "max(metrics.test/nelbo)", r2, 88.0},
		{"tags.note", "tags.note", r2, "keep-1"},
		{"tags.`odd key`", "tags.`odd key`", rows[4], "x"},
		{"metrics.`test_nelbo`", "metrics.`test_nelbo`", r2, nil},
		{"tags.`a``b`", "tags.`a``b`", r2, nil},
	} {
		f, err := ParseField(tc.in)
		if err != nil {
			t.Errorf("ParseField(%q): %v", tc.in, err)
			continue
		}
		if f.String() != tc.str {
			t.Errorf("ParseField(%q).String() = %q, want %q", tc.in, f, tc.str)
		}
		again, err := ParseField(f.String())
		if err != nil || again.String() != f.String() || !reflect.DeepEqual(again.f.keys, f.f.keys) {
			t.Errorf("%q does not round-trip: %v, %v", f, again, err)
		}
		v, ok := f.Value(tc.row)
		if tc.want == nil {
			if ok {
				t.Errorf("%s of run %d = %v, want missing", tc.in, tc.row.ID, v)
			}
			continue
		}
		if !ok || !reflect.DeepEqual(v, tc.want) {
			t.Errorf("%s of run %d = %#v, %v; want %#v", tc.in, tc.row.ID, v, ok, tc.want)
		}
	}
	if v, ok := mustField(t, "metrics.test/nelbo").Value(r3); !ok || !math.IsNaN(v.(float64)) {
		t.Errorf("NaN metric = %v, %v", v, ok)
	}
	if v, ok := mustField(t, "ended").Value(rows[5]); ok {
		t.Errorf("ended of a running run = %v", v)
	}
	if v, ok := mustField(t, "created").Value(r2); !ok || time.Since(v.(time.Time)) > time.Minute {
		t.Errorf("created = %v", v)
	}
	fs, err := ParseFields("id, params.beta,min(metrics.test_nelbo) ,tags.`odd key`")
	if err != nil || len(fs) != 4 || fs[2].String() != "min(metrics.test_nelbo)" || fs[2].Namespace() != "metrics" || fs[2].Key() != "test_nelbo" || fs[0].Key() != "id" {
		t.Errorf("ParseFields = %v, %v", fs, err)
	}
	for _, bad := range []string{"", "id,", "id params.x", "params.x = 1", "nope"} {
		if _, err := ParseFields(bad); err == nil {
			t.Errorf("ParseFields(%q) accepted", bad)
		}
	}
	if _, err := ParseField("id, name"); err == nil || !strings.HasPrefix(err.Error(), "field: ") {
		t.Errorf("ParseField of two = %v", err)
	}
}

func mustField(t *testing.T, s string) Field {
	t.Helper()
	f, err := ParseField(s)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCompare(t *testing.T) {
	db := fixture(t)
	c, err := db.Compare(2, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Runs) != 2 || c.Runs[0].ID != 2 || c.Runs[1].ID != 3 {
		t.Fatalf("runs = %v", c.Runs)
	}
	byKey := func(rows []CompareRow) map[string]CompareRow {
		m := map[string]CompareRow{}
		for _, r := range rows {
			m[r.Key] = r
		}
		return m
	}
	ps := byKey(c.Params)
	if keys := len(c.Params); keys != 4 || c.Params[0].Key != "beta" || c.Params[3].Key != "opt" {
		t.Errorf("param keys = %+v", c.Params)
	}
	if r := ps["beta"]; r.Differs || r.Values[0] != int64(4) || r.Values[1] != 4.0 {
		t.Errorf("beta (int 4 vs float 4.0) = %+v", r)
	}
	if r := ps["lr"]; !r.Differs || r.Values[0] != 0.01 || r.Values[1] != nil {
		t.Errorf("lr (only run 2) = %+v", r)
	}
	if r := ps["opt"]; !r.Differs || r.Values[0] != "sgd" || r.Values[1] != "adam" {
		t.Errorf("opt = %+v", r)
	}
	ms := byKey(c.Metrics)
	if r := ms["test/nelbo"]; !r.Differs || r.Values[0] != 88.0 || !math.IsNaN(r.Values[1].(float64)) {
		t.Errorf("test/nelbo = %+v", r)
	}
	if r := byKey(c.Tags)["note"]; !r.Differs || r.Values[1] != nil {
		t.Errorf("tags = %+v", c.Tags)
	}
	same, err := db.Compare(2, 2)
	if err != nil || len(same.Runs) != 1 || same.Params[0].Differs {
		t.Errorf("compare with itself = %+v, %v", same, err)
	}
	if _, err := db.Compare(1, 99); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "run 99") {
		t.Errorf("unknown id: %v", err)
	}
	if _, err := db.Compare(); err == nil {
		t.Error("Compare() accepted no ids")
	}
}

func TestGroup(t *testing.T) {
	db, _ := openTemp(t)
	// beta ∈ {1, 4, 16} × 3 seeds; beta=4 has one run without the metric
	// and one NaN; beta is an int for some runs and a float for others.
	vals := map[float64][]float64{1: {100, 102, 104}, 4: {90, 91}, 16: {95}}
	for _, beta := range []float64{16, 4, 1} {
		for i, v := range vals[beta] {
			var b any = beta
			if i == 0 {
				b = int(beta)
			}
			rec, err := db.StartRun(RunInfo{Family: "beta-vae", Seed: int64(i), Params: map[string]any{"beta": b}})
			if err != nil {
				t.Fatal(err)
			}
			rec.LogMetric("test/nelbo", 0, v)
			rec.Finish(StatusFinished, nil)
		}
	}
	for _, v := range []float64{math.NaN(), -1} {
		rec, _ := db.StartRun(RunInfo{Family: "beta-vae", Params: map[string]any{"beta": 4}})
		if v == -1 {
			rec.LogMetric("other", 0, v)
		} else {
			rec.LogMetric("test/nelbo", 0, v)
		}
		rec.Finish(StatusFinished, nil)
	}
	rec, _ := db.StartRun(RunInfo{Family: "vae"}) // no beta
	rec.LogMetric("test/nelbo", 0, 80)
	rec.Finish(StatusFinished, nil)

	gs, err := db.Group("", "params.beta", "metrics.test_nelbo")
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 4 {
		t.Fatalf("groups = %+v", gs)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-12 || (math.IsNaN(a) && math.IsNaN(b)) }
	for i, w := range []struct {
		label             string
		count, missing    int
		mean, std, lo, hi float64
		runs              int
	}{
		{"1", 3, 0, 102, 2, 100, 104, 3}, // sample std of 100,102,104 is 2 (n−1)
		{"4", 2, 2, 90.5, math.Sqrt(0.5), 90, 91, 4},
		{"16", 1, 0, 95, math.NaN(), 95, 95, 1},
		{"", 1, 0, 80, math.NaN(), 80, 80, 1},
	} {
		g := gs[i]
		if g.Label != w.label || g.Count != w.count || g.Missing != w.missing || !near(g.Mean, w.mean) || !near(g.Std, w.std) ||
			g.Min != w.lo || g.Max != w.hi || len(g.RunIDs) != w.runs {
			t.Errorf("group %d = %+v, want %+v", i, g, w)
		}
	}
	if gs[0].Value != int64(1) && gs[0].Value != 1.0 || gs[3].Value != nil {
		t.Errorf("values %v %v", gs[0].Value, gs[3].Value)
	}
	// Filtered, grouped by an attribute, over a metric's minimum.
	gs, err = db.Group("params.beta >= 4", "family", "min(metrics.test/nelbo)")
	if err != nil || len(gs) != 1 || gs[0].Label != "beta-vae" || gs[0].Count != 3 || gs[0].Missing != 2 {
		t.Errorf("filtered group = %+v, %v", gs, err)
	}
	for _, bad := range [][3]string{{"x ==", "family", "metrics.a"}, {"", "nope", "metrics.a"}, {"", "family", "tags.x"}, {"", "family", "name"}} {
		if _, err := db.Group(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("Group%q accepted", bad)
		}
	}
	if gs, err := db.Group("id = 999", "family", "metrics.x"); err != nil || len(gs) != 0 {
		t.Errorf("empty group = %v, %v", gs, err)
	}
}

func TestExport(t *testing.T) {
	db := fixture(t)
	var buf bytes.Buffer
	if err := db.Export("id IN (1, 3)", &buf, "csv"); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("csv records = %q", recs)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	wantHeader := []string{"id", "experiment", "name", "family", "status", "sweep", "seed", "created", "ended",
		"params.amsgrad", "params.beta", "params.latent", "params.lr", "params.opt", "metrics.test/nelbo", "metrics.val/nelbo", "tags.note"}
	if !reflect.DeepEqual(recs[0], wantHeader) {
		t.Errorf("header = %q", recs[0])
	}
	// Newest first: run 3, then run 1.
	r3, r1 := recs[1], recs[2]
	if r3[col["id"]] != "3" || r3[col["metrics.test/nelbo"]] != "NaN" || r3[col["params.lr"]] != "" || r3[col["params.beta"]] != "4" {
		t.Errorf("run 3 = %q", r3)
	}
	if r1[col["params.lr"]] != "0.001" || r1[col["params.amsgrad"]] != "true" || r1[col["tags.note"]] != "baseline" {
		t.Errorf("run 1 = %q", r1)
	}
	if _, err := time.Parse(time.RFC3339Nano, r1[col["created"]]); err != nil {
		t.Errorf("created = %q: %v", r1[col["created"]], err)
	}

	buf.Reset()
	if err := db.Runs().Where("id IN (1, 3, 6)").OrderBy("id").Export(&buf, "json"); err != nil {
		t.Fatal(err)
	}
	var objs []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &objs); err != nil {
		t.Fatalf("json: %v\n%s", err, buf.String())
	}
	if len(objs) != 3 || objs[0]["params.beta"] != 1.0 || objs[0]["params.amsgrad"] != true || objs[1]["metrics.test/nelbo"] != nil ||
		objs[2]["ended"] != nil || objs[2]["status"] != "running" {
		t.Errorf("json = %v", objs)
	}
	if !strings.HasPrefix(buf.String(), "[\n  {\"id\": 1, \"experiment\": \"default\"") {
		t.Errorf("json does not keep column order:\n%s", buf.String())
	}

	// Chosen columns, and an empty result.
	buf.Reset()
	cols, _ := ParseFields("id,min(metrics.test_nelbo),tags.note")
	if err := db.Runs().Where("id = 2").Export(&buf, "csv", cols...); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "id,min(metrics.test_nelbo),tags.note\n2,85,keep-1\n" {
		t.Errorf("csv with columns = %q", got)
	}
	buf.Reset()
	if err := db.Export("id = 99", &buf, "json"); err != nil || buf.String() != "[]\n" {
		t.Errorf("empty json = %q, %v", buf.String(), err)
	}
	if err := db.Export("", &buf, "xml"); err == nil || !strings.Contains(err.Error(), "csv or json") {
		t.Errorf("xml: %v", err)
	}
}

func TestExportInfinity(t *testing.T) {
	db, _ := openTemp(t)
	rec, _ := db.StartRun(RunInfo{})
	rec.LogMetric("a", 0, math.Inf(1))
	rec.LogMetric("b", 0, math.Inf(-1))
	rec.Finish(StatusFinished, nil)
	var buf bytes.Buffer
	if err := db.Export("", &buf, "json"); err != nil {
		t.Fatal(err)
	}
	var objs []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &objs); err != nil || objs[0]["metrics.a"] != "+Inf" || objs[0]["metrics.b"] != "-Inf" {
		t.Errorf("json = %v, %v", objs, err)
	}
}

func TestSetTagAndDeleteRun(t *testing.T) {
	db := fixture(t)
	if err := db.SetTag(3, "verdict", "diverged"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetTag(3, "verdict", "nan loss"); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, db.Runs().Where("tags.verdict = 'nan loss'")); !reflect.DeepEqual(got, []int64{3}) {
		t.Errorf("tagged = %v", got)
	}
	if err := db.DeleteTag(3, "verdict"); err != nil {
		t.Fatal(err)
	}
	if tags, _ := db.Tags(3); len(tags) != 0 {
		t.Errorf("tags after delete = %v", tags)
	}
	if err := db.SetTag(99, "a", "b"); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetTag on a missing run: %v", err)
	}
	if err := db.SetTag(1, "", "b"); err == nil {
		t.Error("empty tag key accepted")
	}

	rec, _ := db.ResumeRun(1)
	rec.LogArtifact("samples", 0, "image/png", []byte("png"))
	rec.Finish(StatusFinished, nil)
	counts := func(id int64) []int {
		var out []int
		for _, table := range []string{"params", "metrics", "latest_metrics", "tags", "artifacts"} {
			out = append(out, countRows(t, db, `SELECT count(*) FROM `+table+` WHERE run_id = ?`, id))
		}
		return out
	}
	if c := counts(1); slices.Contains(c, 0) {
		t.Fatalf("run 1 rows before delete = %v", c)
	}
	if err := db.DeleteRun(1); err != nil {
		t.Fatal(err)
	}
	if c := counts(1); !reflect.DeepEqual(c, []int{0, 0, 0, 0, 0}) {
		t.Errorf("rows left = %v", c)
	}
	if _, err := db.Run(1); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted run: %v", err)
	}
	if err := db.DeleteRun(1); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "run 1 not found") {
		t.Errorf("second delete: %v", err)
	}
	if err := db.DeleteRun(6); !errors.Is(err, ErrRunning) || !strings.Contains(err.Error(), "pid") {
		t.Errorf("delete running: %v", err)
	}
	if n, _ := db.Runs().Count(); n != 5 {
		t.Errorf("%d runs left", n)
	}
}

// TestDeleteRunIsAtomic makes the transaction fail after the first deletes
// (a trigger aborts the final DELETE FROM runs) and checks nothing went.
func TestDeleteRunIsAtomic(t *testing.T) {
	db := fixture(t)
	if _, err := db.sql.Exec(`CREATE TEMP TRIGGER no_delete BEFORE DELETE ON runs BEGIN SELECT RAISE(ABORT, 'refused by test'); END`); err != nil {
		t.Fatal(err)
	}
	db.sql.SetMaxOpenConns(1) // the temp trigger lives on one connection
	before := countRows(t, db, `SELECT count(*) FROM metrics`) + countRows(t, db, `SELECT count(*) FROM params`)
	if err := db.DeleteRun(2); err == nil || !strings.Contains(err.Error(), "refused by test") {
		t.Fatalf("DeleteRun = %v", err)
	}
	after := countRows(t, db, `SELECT count(*) FROM metrics`) + countRows(t, db, `SELECT count(*) FROM params`)
	if after != before {
		t.Errorf("rows %d -> %d after a failed delete", before, after)
	}
}
