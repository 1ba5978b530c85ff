package sweep

import (
	"math"
	"sort"

	"github.com/vaexp/vaexp/tracker"
)

// RungTrial is what successive halving knows of one trial: where it is and
// its metric at each rung it completed.
type RungTrial struct {
	Index int
	State string // a tracker.Trial* state
	Rung  int
	// Values maps a completed rung to the trial's metric there (NaN: a
	// failed or non-finite result, ranked last).
	Values map[int]float64
}

// Decision promotes a trial paused at rung Rung to the next rung (with
// Budget), or prunes it.
type Decision struct {
	Index, Rung int
	Promote     bool
	Budget      int
}

// Decide returns the promotions and prunings due, given every trial's
// state. A rung's trials are ranked by their value there (best first by
// direction, NaN last, ties by index); the best ⌊n/η⌋ (at least one) go up.
//
// Synchronous (Async false): rung k is decided once no trial is still
// working towards it (every trial that reached it has its result); the top
// ⌊n_k/η⌋ are promoted and the other paused ones pruned: classic successive
// halving.
//
// Asynchronous (ASHA, Li et al. 2020): a paused trial is promoted as soon
// as it ranks in the top ⌊m/η⌋ of the m results its rung has so far, and
// otherwise waits; once nothing is pending or running anywhere, the rest
// are pruned. Every trial the synchronous rule would promote is promoted
// here too, possibly with others promoted early on less information.
func (h Halving) Decide(trials []RungTrial, minimize bool) []Decision {
	budgets := h.Budgets()
	top := len(budgets) - 1
	better := func(a, b float64) bool {
		switch {
		case math.IsNaN(b):
			return !math.IsNaN(a)
		case math.IsNaN(a):
			return false
		case minimize:
			return a < b
		}
		return a > b
	}
	busy := false // some trial is pending or running
	for _, t := range trials {
		if t.State == tracker.TrialPending || t.State == tracker.TrialRunning {
			busy = true
		}
	}
	var out []Decision
	for k := 0; k < top; k++ {
		// Trials with a result at rung k, and whether any is still on its way there.
		var done []RungTrial
		waiting := false
		for _, t := range trials {
			if _, ok := t.Values[k]; ok && (t.Rung > k || t.State != tracker.TrialPending && t.State != tracker.TrialRunning) {
				done = append(done, t)
			} else if t.Rung == k && (t.State == tracker.TrialPending || t.State == tracker.TrialRunning) {
				waiting = true
			}
		}
		if len(done) == 0 || (!h.Async && waiting) {
			continue
		}
		sort.SliceStable(done, func(i, j int) bool {
			a, b := done[i].Values[k], done[j].Values[k]
			if better(a, b) {
				return true
			}
			if better(b, a) {
				return false
			}
			return done[i].Index < done[j].Index
		})
		keep := max(1, len(done)/h.Eta)
		if h.Async && busy {
			// ASHA: ⌊m/η⌋ of the results so far, as more may still arrive.
			keep = len(done) / h.Eta
		}
		for rank, t := range done {
			if t.Rung != k || t.State != tracker.TrialPaused {
				continue
			}
			switch {
			case rank < keep && !math.IsNaN(t.Values[k]):
				out = append(out, Decision{Index: t.Index, Rung: k, Promote: true, Budget: budgets[k+1]})
			case !h.Async || !busy:
				out = append(out, Decision{Index: t.Index, Rung: k})
			}
		}
	}
	return out
}
