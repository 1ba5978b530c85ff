package experiments

import (
	"sync"
	"time"
)

// StallPolicy says when a run counts as stalled: no step has finished for
// Factor times the median step time, and at least Min. Older GoMLX releases
// could hang inside the Go backend's worker pool; whatever the cause, a run
// must never hang silently.
type StallPolicy struct {
	Factor float64
	Min    time.Duration
	// First bounds the first step (graph building and compilation included).
	First time.Duration
}

// DefaultStallPolicy fires after 50× the median step, at least 2 minutes
// (10 minutes for the first step, which compiles the graph).
var DefaultStallPolicy = StallPolicy{Factor: 50, Min: 2 * time.Minute, First: 10 * time.Minute}

// watchdog watches step completions and closes fired when a step overruns.
type watchdog struct {
	policy StallPolicy
	mu     sync.Mutex
	last   time.Time
	recent []time.Duration // ring of the latest step durations
	next   int
	fired  chan struct{}
	stop   chan struct{}
	once   sync.Once
	waited time.Duration // how long the stalled step had run when fired
}

func newWatchdog(p StallPolicy) *watchdog {
	return &watchdog{policy: p, last: time.Now(), fired: make(chan struct{}), stop: make(chan struct{})}
}

// stepDone records a finished step.
func (w *watchdog) stepDone(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last = time.Now()
	if len(w.recent) < 101 {
		w.recent = append(w.recent, d)
	} else {
		w.recent[w.next] = d
		w.next = (w.next + 1) % len(w.recent)
	}
}

// limit is how long the current step may take.
func (w *watchdog) limit() time.Duration {
	if len(w.recent) == 0 {
		return max(w.policy.First, w.policy.Min)
	}
	return max(w.policy.Min, time.Duration(w.policy.Factor*float64(median(w.recent))))
}

// run polls until stopped or fired.
func (w *watchdog) run() {
	tick := time.NewTicker(max(w.policy.Min/20, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-tick.C:
			w.mu.Lock()
			since, limit := time.Since(w.last), w.limit()
			w.mu.Unlock()
			if since > limit {
				w.waited = since
				close(w.fired)
				return
			}
		}
	}
}

func (w *watchdog) close() { w.once.Do(func() { close(w.stop) }) }
