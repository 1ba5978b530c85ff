package sweep

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gomlx/compute"

	"github.com/vaexp/vaexp/tracker"
)

// stopGrace is how long stopped workers get to save their checkpoints
// before they are killed.
const stopGrace = 2 * time.Minute

// maxRestarts bounds how often a slot's worker is restarted after dying.
const maxRestarts = 3

// pool starts and watches a sweep's workers: processes re-running vaexp
// (`sweep worker`) when Options.WorkerCommand is set, else goroutines
// calling Work in this process.
type pool struct {
	ctx  context.Context
	sw   tracker.Sweep
	spec *Spec
	opts Options
	disp *display
	dir  string

	mu       sync.Mutex
	workers  map[int]*worker
	restarts map[int]int
	// exited gets a value whenever a worker ends.
	exited chan struct{}
}

// worker is one running worker.
type worker struct {
	n       int
	desc    string
	done    chan struct{}
	err     error // set before done closes
	stopFn  func()
	killFn  func()
	stopped bool // asked to stop: its exit is expected
}

func newPool(ctx context.Context, sw tracker.Sweep, spec *Spec, opts Options, disp *display) *pool {
	return &pool{ctx: ctx, sw: sw, spec: spec, opts: opts, disp: disp,
		dir:     filepath.Join(opts.OutDir, fmt.Sprintf("sweep-%d", sw.ID)),
		workers: map[int]*worker{}, restarts: map[int]int{}, exited: make(chan struct{}, 64)}
}

func (p *pool) start(n int) error {
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return fmt.Errorf("sweep folder: %w (set --out to a writable folder)", err)
	}
	for i := range n {
		if err := p.launch(i); err != nil {
			return err
		}
	}
	kind := "in this process"
	if p.opts.WorkerCommand != nil {
		kind = fmt.Sprintf("processes, %s", p.threadsNote())
	}
	p.disp.notef("sweep %d (%s): %d trials, %d workers (%s); logs in %s", p.sw.ID, p.sw.Name, p.sw.Trials, n, kind, p.dir)
	return nil
}

// threads is the backend parallelism each worker process gets.
func (p *pool) threads() int {
	if p.opts.Threads > 0 {
		return p.opts.Threads
	}
	return max(1, DefaultWorkers()/max(1, p.opts.Workers))
}

func (p *pool) threadsNote() string {
	if cfg := os.Getenv(compute.ConfigEnvVar); cfg != "" {
		return fmt.Sprintf("%s=%s", compute.ConfigEnvVar, cfg)
	}
	return fmt.Sprintf("%d backend thread(s) each", p.threads())
}

func (p *pool) launch(n int) error {
	w := &worker{n: n, done: make(chan struct{})}
	if p.opts.WorkerCommand == nil {
		ctx, cancel := context.WithCancel(p.ctx)
		w.desc, w.stopFn, w.killFn = fmt.Sprintf("worker %d (goroutine)", n), cancel, cancel
		log, err := os.OpenFile(filepath.Join(p.dir, fmt.Sprintf("worker-%d.log", n)), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			cancel()
			return fmt.Errorf("worker log: %w", err)
		}
		go func() {
			defer log.Close()
			w.err = Work(ctx, p.opts.DB, p.sw.ID, WorkerOptions{OutDir: p.opts.OutDir, Log: log, Command: p.opts.Command,
				Poll: p.opts.Poll, runTrial: p.opts.runTrial})
			p.ended(w)
		}()
	} else {
		argv := append(append([]string(nil), p.opts.WorkerCommand...), fmt.Sprint(p.sw.ID), "--worker", fmt.Sprint(n))
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = os.Environ()
		if os.Getenv(compute.ConfigEnvVar) == "" {
			cmd.Env = append(cmd.Env, fmt.Sprintf("%s=go:parallelism=%d", compute.ConfigEnvVar, p.threads()))
		}
		log, err := os.OpenFile(filepath.Join(p.dir, fmt.Sprintf("worker-%d.log", n)), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("worker log: %w", err)
		}
		cmd.Stdout, cmd.Stderr = log, log
		ownGroup(cmd)
		if err := cmd.Start(); err != nil {
			log.Close()
			return fmt.Errorf("start worker %d (%s): %w", n, strings.Join(argv, " "), err)
		}
		w.desc = fmt.Sprintf("worker %d (pid %d)", n, cmd.Process.Pid)
		w.stopFn = func() { interrupt(cmd.Process) }
		w.killFn = func() { _ = cmd.Process.Kill() }
		go func() {
			w.err = cmd.Wait()
			log.Close()
			p.ended(w)
		}()
	}
	p.mu.Lock()
	p.workers[n] = w
	p.mu.Unlock()
	return nil
}

func (p *pool) ended(w *worker) {
	close(w.done)
	select {
	case p.exited <- struct{}{}:
	default:
	}
}

// reap handles workers that ended on their own: a clean exit means there
// was nothing left for it; a crash (killed, or an error) releases its trial
// and restarts it, up to maxRestarts times per worker.
func (p *pool) reap() error {
	p.mu.Lock()
	var ended []*worker
	for n, w := range p.workers {
		select {
		case <-w.done:
			if !w.stopped && w.err != nil {
				ended = append(ended, w)
			}
			delete(p.workers, n)
		default:
		}
	}
	alive := len(p.workers)
	p.mu.Unlock()
	for _, w := range ended {
		released, err := p.opts.DB.ReleaseDeadClaims(p.sw.ID, false)
		if err != nil {
			return err
		}
		note := ""
		if len(released) > 0 {
			note = fmt.Sprintf("; trial %v continues from its checkpoint", released)
		}
		if p.restarts[w.n] >= maxRestarts {
			p.disp.notef("%s died (%v)%s; not restarted after %d restarts: see %s", w.desc, w.err, note, maxRestarts,
				filepath.Join(p.dir, fmt.Sprintf("worker-%d.log", w.n)))
			continue
		}
		p.restarts[w.n]++
		p.disp.notef("%s died (%v)%s; restarting it", w.desc, w.err, note)
		if err := p.launch(w.n); err != nil {
			return err
		}
		alive++
	}
	if alive == 0 {
		s, err := p.opts.DB.Sweep(p.sw.ID)
		if err != nil {
			return err
		}
		if open := s.Trials - s.Counts[tracker.TrialFinished] - s.Counts[tracker.TrialPruned] - s.Counts[tracker.TrialFailed]; open > 0 {
			return fmt.Errorf("every worker ended with %d trials open; see the logs in %s", open, p.dir)
		}
	}
	return nil
}

// stop asks every worker to stop (SIGINT: the run saves a checkpoint),
// waits up to stopGrace, then kills the rest.
func (p *pool) stop() {
	p.mu.Lock()
	ws := make([]*worker, 0, len(p.workers))
	for _, w := range p.workers {
		w.stopped = true
		ws = append(ws, w)
	}
	p.mu.Unlock()
	for _, w := range ws {
		w.stopFn()
	}
	deadline := time.After(stopGrace)
	for _, w := range ws {
		select {
		case <-w.done:
		case <-deadline:
			w.killFn()
			<-w.done
		}
	}
}
