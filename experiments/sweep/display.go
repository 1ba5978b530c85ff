package sweep

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/vaexp/vaexp/tracker"
)

// display shows a sweep's progress: one line per event (trial started,
// reached a rung, promoted, pruned, finished, failed) for logs, or a
// progress bar on a terminal with only failures printed above it.
type display struct {
	mu      sync.Mutex
	log     io.Writer
	barW    io.Writer
	bar     *progressbar.ProgressBar
	spec    *Spec
	sw      tracker.Sweep
	budgets []int
	last    map[int]tracker.Trial
}

func newDisplay(log, progress io.Writer, spec *Spec, sw tracker.Sweep) *display {
	d := &display{log: log, barW: progress, spec: spec, sw: sw, last: map[int]tracker.Trial{}}
	if spec.Method == "halving" {
		d.budgets = spec.Halving.Budgets()
	}
	if progress != nil {
		d.bar = progressbar.NewOptions(sw.Trials,
			progressbar.OptionSetWriter(progress),
			progressbar.OptionSetItsString("trials"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(20),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(progress) }),
		)
	}
	return d
}

// notef prints a line that must be seen even under a progress bar (failures, the start).
func (d *display) notef(format string, args ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.print(fmt.Sprintf(format, args...), true)
}

func (d *display) print(line string, always bool) {
	stamp := time.Now().Format("15:04:05")
	switch {
	case d.bar != nil && always:
		_ = d.bar.Clear()
		fmt.Fprintf(d.barW, "%s %s\n", stamp, line)
		_ = d.bar.RenderBlank()
	case d.bar == nil && d.log != nil:
		fmt.Fprintf(d.log, "%s %s\n", stamp, line)
	}
}

// update reports what changed since the last call.
func (d *display) update(trials []tracker.Trial) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var done, running, pruned, failed int
	best := -1
	for i, t := range trials {
		switch t.State {
		case tracker.TrialRunning:
			running++
		case tracker.TrialPruned:
			pruned++
		case tracker.TrialFailed:
			failed++
		}
		if tracker.TrialDone(t.State) {
			done++
		}
		if t.State == tracker.TrialFinished && finite(t.Value) && (best < 0 || d.better(t.Value, trials[best].Value)) {
			best = i
		}
	}
	bestText := "none yet"
	if best >= 0 {
		bestText = fmt.Sprintf("%s=%.5g (trial %d)", d.spec.Metric, trials[best].Value, trials[best].Index)
	}
	summary := fmt.Sprintf("[%d/%d done, %d running, %d pruned, %d failed; best %s]", done, len(trials), running, pruned, failed, bestText)
	if len(d.last) == 0 && done > 0 {
		// A resumed sweep: what ended before is summed up, not replayed.
		d.print("resuming "+summary, true)
		for _, t := range trials {
			if tracker.TrialDone(t.State) {
				d.last[t.Index] = t
			}
		}
	}
	for _, t := range trials {
		prev, seen := d.last[t.Index]
		d.last[t.Index] = t
		if seen && prev.State == t.State && prev.Rung == t.Rung {
			continue
		}
		if !seen && t.State == tracker.TrialPending {
			continue
		}
		if ev := d.event(prev, t, seen); ev != "" {
			d.print(ev+" "+summary, t.State == tracker.TrialFailed)
		}
	}
	if d.bar != nil {
		d.bar.Describe(fmt.Sprintf("%d running · %d pruned · %d failed · best %s", running, pruned, failed, bestText))
		_ = d.bar.Set(done)
	}
}

func (d *display) better(a, b float64) bool {
	if d.spec.Direction == "max" {
		return a > b
	}
	return a < b
}

// event describes one trial's change, or "".
func (d *display) event(prev, t tracker.Trial, seen bool) string {
	name := fmt.Sprintf("trial %d", t.Index)
	rung := func(r int) string {
		if d.budgets == nil || r >= len(d.budgets) {
			return ""
		}
		return fmt.Sprintf(" rung %d (%d %s)", r, d.budgets[r], d.spec.Halving.Unit)
	}
	switch t.State {
	case tracker.TrialRunning:
		if seen && t.Rung > prev.Rung {
			return fmt.Sprintf("%s promoted, running%s after %s=%.5g", name, rung(t.Rung), d.spec.Metric, t.Value)
		}
		return fmt.Sprintf("%s running%s: %s seed %d", name, rung(t.Rung), FormatConfig(t.Config), t.Seed)
	case tracker.TrialPending:
		if seen && t.Rung > prev.Rung {
			return fmt.Sprintf("%s promoted to%s after %s=%.5g", name, rung(t.Rung), d.spec.Metric, t.Value)
		}
		if seen && prev.State == tracker.TrialRunning {
			return fmt.Sprintf("%s interrupted (run %d): it continues from its checkpoint", name, t.RunID)
		}
	case tracker.TrialPaused:
		return fmt.Sprintf("%s reached%s: %s=%.5g (run %d)", name, rung(t.Rung), d.spec.Metric, t.Value, t.RunID)
	case tracker.TrialPruned:
		return fmt.Sprintf("%s pruned at%s: %s=%.5g (run %d)", name, rung(t.Rung), d.spec.Metric, t.Value, t.RunID)
	case tracker.TrialFinished:
		return fmt.Sprintf("%s finished: %s=%.5g (run %d)", name, d.spec.Metric, t.Value, t.RunID)
	case tracker.TrialFailed:
		return fmt.Sprintf("%s failed (run %d): %s", name, t.RunID, t.Error)
	}
	return ""
}

func (d *display) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.bar != nil {
		_ = d.bar.Exit()
	}
}
