package notebooks

import (
	"fmt"
	"html"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/janpfeifer/gonb/gonbui"

	"github.com/vaexp/vaexp/plots"
)

// LivePlot is a figure of a run's loss terms that redraws in place while the
// run trains: pass its Step method as experiments.Options.OnStep and call
// Done when the run returns. Step only records the values (the training loop
// calls it after every step); a goroutine redraws at most once per Interval,
// so drawing never slows training down by more than a frame a second.
type LivePlot struct {
	// Interval between redraws (default 1 s).
	Interval time.Duration
	// Options style the figure; the title gets the step and elapsed time appended.
	Options plots.CurveOptions

	terms []string
	id    string
	start time.Time

	mu     sync.Mutex
	steps  []float64
	values map[string][]float64
	dirty  bool
	err    error

	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

// NewLivePlot starts a live figure of the named terms (as the family reports
// them: "recon", "kl", "nelbo"...; none: every term but "loss").
func NewLivePlot(title string, terms ...string) *LivePlot {
	l := &LivePlot{
		Interval: time.Second,
		Options: plots.CurveOptions{
			Title: title, XLabel: "training step", YLabel: "nats per example",
			SkipTransient: 0.1, Width: 7, Height: 3.5,
		},
		terms:   terms,
		id:      "vaexp-live-" + gonbui.UniqueId(),
		start:   time.Now(),
		values:  map[string][]float64{},
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	go l.loop()
	return l
}

// Step records one training step's terms; it has the signature of
// experiments.Options.OnStep.
func (l *LivePlot) Step(step int, terms map[string]float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.terms == nil {
		for k := range terms {
			if k != "loss" {
				l.terms = append(l.terms, k)
			}
		}
		sort.Strings(l.terms)
	}
	l.steps = append(l.steps, float64(step))
	for _, k := range l.terms {
		v, ok := terms[k]
		if !ok {
			v = math.NaN() // a gap in its curve
		}
		l.values[k] = append(l.values[k], v)
	}
	l.dirty = true
}

// Done stops the redraws and draws the final figure, which stays in the
// notebook. It returns the first drawing error, if any.
func (l *LivePlot) Done() error {
	l.once.Do(func() { close(l.stop) })
	<-l.stopped
	l.draw(true)
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

func (l *LivePlot) loop() {
	defer close(l.stopped)
	interval := l.Interval
	if interval <= 0 {
		interval = time.Second
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
			l.draw(false)
		}
	}
}

// draw renders the terms recorded so far, if anything changed (or final).
func (l *LivePlot) draw(final bool) {
	l.mu.Lock()
	if (!l.dirty && !final) || len(l.steps) == 0 {
		l.mu.Unlock()
		return
	}
	l.dirty = false
	n := len(l.steps)
	steps := l.steps[:n:n] // appends never change the first n values
	series := make([]plots.Series, 0, len(l.terms))
	for _, k := range l.terms {
		series = append(series, plots.Series{Name: k, X: steps, Y: l.values[k][:n:n]})
	}
	l.mu.Unlock()

	opt := l.Options
	if n >= 200 {
		opt.Smooth = min(n/50, 50) // raw steps faint, a moving average solid
	}
	status := "training"
	if final {
		status = "done"
	}
	opt.Title = fmt.Sprintf("%s — %s: step %d, %.0f s", opt.Title, status, int(steps[n-1]), time.Since(l.start).Seconds())
	err := func() error {
		p, err := plots.Curves(series, opt)
		if err != nil {
			return err
		}
		png, err := PlotPNG(p, opt.Width, opt.Height)
		if err != nil {
			return err
		}
		PNG(png, int(opt.Width*screenDPI), l.id)
		return nil
	}()
	if err != nil {
		l.mu.Lock()
		if l.err == nil {
			l.err = err
		}
		l.mu.Unlock()
	}
}

// Status is one line of text redrawn in place: the compact progress line of a
// loop over runs, where a live figure per run would be a wall of plots.
type Status struct {
	id   string
	mu   sync.Mutex
	last time.Time
}

// NewStatus starts an empty status line.
func NewStatus() *Status { return &Status{id: "vaexp-status-" + gonbui.UniqueId()} }

// Set replaces the line's text.
func (s *Status) Set(format string, args ...any) {
	s.mu.Lock()
	s.last = time.Now()
	s.mu.Unlock()
	gonbui.UpdateHTML(s.id, `<div style="font-family:monospace">`+html.EscapeString(fmt.Sprintf(format, args...))+`</div>`)
}

// Write shows the last complete line written, so a Status can take the
// event lines of a sweep (sweep.Options.Log): the line is redrawn in place
// instead of scrolling a wall of text.
func (s *Status) Write(p []byte) (int, error) {
	lines := strings.Split(strings.TrimRight(string(p), "\n"), "\n")
	if last := strings.TrimSpace(lines[len(lines)-1]); last != "" {
		s.Set("%s", last)
	}
	return len(p), nil
}

// Steps returns an experiments.Options.OnStep function that shows
// "label: step N, loss L" at most four times a second.
func (s *Status) Steps(label string) func(step int, terms map[string]float64) {
	return func(step int, terms map[string]float64) {
		s.mu.Lock()
		due := time.Since(s.last) >= 250*time.Millisecond
		s.mu.Unlock()
		if due {
			s.Set("%s: step %d, loss %.1f", label, step, terms["loss"])
		}
	}
}
