package sweep

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vaexp/vaexp/tracker"
)

func TestHalvingBudgets(t *testing.T) {
	for _, tc := range []struct {
		h    Halving
		want []int
	}{
		{Halving{Min: 1, Max: 9, Eta: 3}, []int{1, 3, 9}},
		{Halving{Min: 1, Max: 10, Eta: 3}, []int{1, 3, 10}},
		{Halving{Min: 2, Max: 16, Eta: 2}, []int{2, 4, 8, 16}},
		{Halving{Min: 1, Max: 2, Eta: 3}, []int{1, 2}},
		{Halving{Min: 5, Max: 5, Eta: 3}, []int{5}},
		{Halving{Min: 100, Max: 2700, Eta: 3}, []int{100, 300, 900, 2700}},
	} {
		if got := tc.h.Budgets(); !slices.Equal(got, tc.want) {
			t.Errorf("%+v: budgets %v, want %v", tc.h, got, tc.want)
		}
	}
}

// TestHalvingDecide checks the promotion rule on hand-made rungs.
func TestHalvingDecide(t *testing.T) {
	h := Halving{Min: 1, Max: 9, Eta: 3}
	paused := func(i int, v float64) RungTrial {
		return RungTrial{Index: i, State: tracker.TrialPaused, Values: map[int]float64{0: v}}
	}
	// Six trials at rung 0, one still running: synchronous halving waits.
	trials := []RungTrial{paused(0, 5), paused(1, 3), paused(2, math.NaN()), paused(3, 1), paused(4, 4),
		{Index: 5, State: tracker.TrialRunning}}
	if d := h.Decide(trials, true); len(d) != 0 {
		t.Errorf("sync decided before the rung was complete: %+v", d)
	}
	// ASHA promotes the best ⌊5/3⌋ = 1 of the results so far, prunes nothing yet.
	ha := h
	ha.Async = true
	if d := ha.Decide(trials, true); !slices.Equal(d, []Decision{{Index: 3, Rung: 0, Promote: true, Budget: 3}}) {
		t.Errorf("async decisions: %+v", d)
	}
	// The rung completes: the best ⌊6/3⌋ = 2 go up, the rest are pruned
	// (the NaN result last); maximizing reverses the order.
	trials[5] = paused(5, 2)
	var got []string
	for _, d := range h.Decide(trials, true) {
		got = append(got, fmt.Sprintf("%d:%v", d.Index, d.Promote))
	}
	if strings.Join(got, " ") != "3:true 5:true 1:false 4:false 0:false 2:false" {
		t.Errorf("sync decisions (min): %s", got)
	}
	got = nil
	for _, d := range h.Decide(trials, false) {
		got = append(got, fmt.Sprintf("%d:%v", d.Index, d.Promote))
	}
	if strings.Join(got, " ") != "0:true 4:true 1:false 5:false 3:false 2:false" {
		t.Errorf("sync decisions (max): %s", got)
	}
}

// objective is a synthetic metric with a known answer: |x − 5| at every
// budget, except that x = 1 looks best (−1) after the first rung only.
func objective(x float64, budget int) float64 {
	if x == 1 && budget == 1 {
		return -1
	}
	return math.Abs(x - 5)
}

// fakeTrial "trains" a trial by evaluating objective at its rung's budget.
func fakeTrial(_ context.Context, _ *tracker.DB, spec *Spec, t tracker.Trial, _ WorkerOptions) tracker.TrialResult {
	var p map[string]float64
	if err := json.Unmarshal([]byte(t.Config), &p); err != nil {
		return tracker.TrialResult{State: tracker.TrialFailed, Error: err.Error()}
	}
	time.Sleep(time.Duration(p["latent_dim"]) * time.Millisecond) // trials end in varying order
	budgets := spec.Halving.Budgets()
	state := tracker.TrialPaused
	if t.Rung == len(budgets)-1 {
		state = tracker.TrialFinished
	}
	return tracker.TrialResult{State: state, Value: objective(p["latent_dim"], t.Budget), Step: int64(t.Budget)}
}

const halvingSpec = `
model: vae
method: halving
space:
  latent_dim: [1, 2, 3, 4, 5, 6, 7, 8, 9]
halving: {min: 1, max: 9, unit: steps, eta: 3, async: %v}
`

// TestHalvingPromotesTheRightTrials drives a successive-halving sweep with
// the controller, the tracker and two workers, on the synthetic objective
// (no training): rung 0 keeps the best three (x = 1, 5, 4; x = 1 only looks
// good at budget 1), rung 1 keeps x = 5, which alone trains the full budget.
func TestHalvingPromotesTheRightTrials(t *testing.T) {
	for _, async := range []bool{false, true} {
		t.Run(fmt.Sprintf("async=%v", async), func(t *testing.T) {
			db, err := tracker.Open(filepath.Join(t.TempDir(), "vaexp.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			spec := mustParse(t, fmt.Sprintf(halvingSpec, async))
			var log strings.Builder
			res, err := Start(context.Background(), spec, Options{DB: db, OutDir: t.TempDir(), Workers: 2, Log: &log,
				Poll: 5 * time.Millisecond, runTrial: fakeTrial})
			if err != nil {
				t.Fatalf("%v\n%s", err, log.String())
			}
			if res.State != tracker.SweepFinished || res.Best == nil || res.Best.Index != 4 || res.Best.Value != 0 {
				t.Fatalf("result %+v (best %+v)\n%s", res, res.Best, log.String())
			}
			trials, _ := db.Trials(res.SweepID)
			states := map[string][]int{}
			for _, tr := range trials {
				key := fmt.Sprintf("%s@%d", tr.State, tr.Rung)
				states[key] = append(states[key], tr.Index+1) // x = index + 1
			}
			want := map[string][]int{"finished@2": {5}, "pruned@1": {1, 4}, "pruned@0": {2, 3, 6, 7, 8, 9}}
			if async {
				// ASHA may also promote early on partial results, but every
				// trial synchronous halving promotes is promoted too.
				if !slices.Equal(states["finished@2"], []int{5}) {
					t.Errorf("async: finished %v, want [5]", states["finished@2"])
				}
				for _, x := range []int{1, 4, 5} {
					if tr := trials[x-1]; tr.Rung < 1 {
						t.Errorf("async: x = %d never reached rung 1: %+v", x, tr)
					}
				}
			} else if fmt.Sprint(states) != fmt.Sprint(want) {
				t.Errorf("trials by state@rung (as x): %v, want %v", states, want)
			}
			// Every promoted trial has its result at each rung it passed.
			rungs, _ := db.Rungs(res.SweepID)
			for _, r := range rungs {
				if r.Value != objective(float64(r.Index+1), r.Budget) {
					t.Errorf("rung result %+v", r)
				}
			}
			if !strings.Contains(log.String(), "pruned at rung 0 (1 steps)") || !regexp.MustCompile(`promoted(, running| to) rung 1 \(3 steps\)`).MatchString(log.String()) {
				t.Errorf("event log lacks promotions/prunings:\n%s", log.String())
			}
		})
	}
}

// TestGridSweepInProcess runs a grid sweep with in-process workers on the
// synthetic objective and checks every trial ran once, the best trial and
// the mean over seeds.
func TestGridSweepInProcess(t *testing.T) {
	db, err := tracker.Open(filepath.Join(t.TempDir(), "vaexp.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	spec := mustParse(t, "model: vae\nmethod: grid\nspace: {latent_dim: [3, 5, 8]}\nseeds: 2\n")
	calls := map[int]int{}
	run := func(ctx context.Context, db *tracker.DB, spec *Spec, t tracker.Trial, o WorkerOptions) tracker.TrialResult {
		calls[t.Index]++
		var p map[string]float64
		json.Unmarshal([]byte(t.Config), &p)
		return tracker.TrialResult{State: tracker.TrialFinished, Value: math.Abs(p["latent_dim"]-5) + float64(t.Seed), Step: 1}
	}
	res, err := Start(context.Background(), spec, Options{DB: db, OutDir: t.TempDir(), Workers: 1, Log: io.Discard, Poll: time.Millisecond, runTrial: run})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 6 || res.Counts[tracker.TrialFinished] != 6 {
		t.Errorf("calls %v, counts %v", calls, res.Counts)
	}
	best, err := BestTrial(db, res.SweepID, true)
	if err != nil || best.Config != `{"latent_dim":5}` || best.Value != 1.5 || best.N != 2 || math.Abs(best.Std-math.Sqrt(0.5)) > 1e-12 || best.Seed != 1 {
		t.Errorf("best by mean = %+v, %v", best, err)
	}
	// The same sweep again is finished: nothing reruns.
	if _, err := Start(context.Background(), mustParse(t, "model: vae\nmethod: grid\nspace: {latent_dim: [3, 5, 8]}\nseeds: 2\n"),
		Options{DB: db, runTrial: run}); err == nil || !strings.Contains(err.Error(), "already finished") {
		t.Errorf("restarting a finished sweep: %v", err)
	}
}
