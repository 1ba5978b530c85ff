package experiments

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress is the training progress bar (a no-op without a writer).
type progress struct {
	bar           *progressbar.ProgressBar
	stepsPerEpoch int
	total         int
	lastDesc      time.Time
}

func newProgress(w io.Writer, start, total, stepsPerEpoch int) *progress {
	p := &progress{stepsPerEpoch: stepsPerEpoch, total: total}
	if w == nil {
		return p
	}
	p.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetItsString("steps"),
		progressbar.OptionShowIts(),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(20),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
	_ = p.bar.Set(start)
	return p
}

func (p *progress) step(step int, terms map[string]float64) {
	if p.bar == nil {
		return
	}
	if time.Since(p.lastDesc) > 250*time.Millisecond || step == p.total {
		epoch := (step-1)/p.stepsPerEpoch + 1
		desc := fmt.Sprintf("epoch %d/%d", epoch, (p.total+p.stepsPerEpoch-1)/p.stepsPerEpoch)
		for _, k := range []string{"loss", "recon", "kl"} {
			if v, ok := terms[k]; ok {
				desc += fmt.Sprintf(" %s %.2f", k, v)
			}
		}
		p.bar.Describe(desc)
		p.lastDesc = time.Now()
	}
	_ = p.bar.Set(step)
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Exit()
	}
}
