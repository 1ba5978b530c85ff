package tracker

import (
	"fmt"
	"sync/atomic"
	"testing"
)

// BenchmarkLogMetric measures the cost a training step pays per metric: an
// append under a mutex. The flusher is stopped and the buffer emptied off
// the clock every 64k calls, as the flusher would, so only the call is timed.
func BenchmarkLogMetric(b *testing.B) {
	db, _ := openTemp(b)
	rec, err := db.StartRun(RunInfo{})
	if err != nil {
		b.Fatal(err)
	}
	rec.stopFlusher()
	b.ReportAllocs()
	i := int64(0)
	for b.Loop() {
		rec.LogMetric("loss", i, 1.5)
		i++
		if i%(1<<16) == 0 {
			b.StopTimer()
			rec.mu.Lock()
			rec.buf = rec.buf[:0]
			rec.mu.Unlock()
			b.StartTimer()
		}
	}
}

// BenchmarkTrainingStep times a stand-in training step (about 1 ms of
// arithmetic) that logs 10 metrics, without and with a live Recorder whose
// background flusher writes to disk. The difference is the tracking
// overhead a run pays.
func BenchmarkTrainingStep(b *testing.B) {
	keys := make([]string, 10)
	for i := range keys {
		keys[i] = fmt.Sprintf("loss/term%d", i)
	}
	work := func(seed float64) float64 {
		x := seed
		for range 400_000 {
			x = x*0.999999 + 1e-9
		}
		return x
	}
	b.Run("untracked", func(b *testing.B) {
		sink := 0.0
		for b.Loop() {
			sink += work(sink)
		}
	})
	b.Run("tracked", func(b *testing.B) {
		db, _ := openTemp(b)
		rec, err := db.StartRun(RunInfo{})
		if err != nil {
			b.Fatal(err)
		}
		sink, step := 0.0, int64(0)
		for b.Loop() {
			v := work(sink)
			sink += v
			for _, k := range keys {
				rec.LogMetric(k, step, v)
			}
			step++
		}
		b.StopTimer()
		if err := rec.Finish(StatusFinished, nil); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkFlush writes 5 metrics x steps rows in one transaction to a
// database that grows as the benchmark runs, as a long run's would.
func BenchmarkFlush(b *testing.B) {
	for _, steps := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("5x%d", steps), func(b *testing.B) { benchFlush(b, steps) })
	}
}

func benchFlush(b *testing.B, steps int) {
	db, _ := openTemp(b)
	rec, err := db.StartRun(RunInfo{})
	if err != nil {
		b.Fatal(err)
	}
	rec.stopFlusher() // measure only the explicit flushes
	keys := []string{"loss", "recon", "kl", "beta", "lr"}
	step := int64(0)
	for b.Loop() {
		b.StopTimer()
		for range steps {
			for j, k := range keys {
				rec.LogMetric(k, step, float64(j)+float64(step)*1e-3)
			}
			step++
		}
		b.StartTimer()
		if err := rec.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int(step)*len(keys)), "ns/row")
	if n := countRowsB(b, db); n != int(step)*len(keys) {
		b.Fatalf("%d rows, want %d", n, int(step)*len(keys))
	}
	rec.Finish(StatusFinished, nil)
}

func countRowsB(b *testing.B, db *DB) int {
	var n int
	if err := db.sql.QueryRow(`SELECT count(*) FROM metrics`).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkLogMetricParallel is LogMetric from several goroutines at once:
// the cost of sharing the buffer's mutex. As in BenchmarkLogMetric the
// flusher is off and the buffer is emptied every 64k rows.
func BenchmarkLogMetricParallel(b *testing.B) {
	db, _ := openTemp(b)
	rec, err := db.StartRun(RunInfo{})
	if err != nil {
		b.Fatal(err)
	}
	rec.stopFlusher()
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		key := fmt.Sprintf("g%d", n.Add(1))
		i := int64(0)
		for pb.Next() {
			rec.LogMetric(key, i, 1)
			i++
			if i%(1<<12) == 0 {
				rec.mu.Lock()
				if len(rec.buf) >= 1<<16 {
					rec.buf = rec.buf[:0]
				}
				rec.mu.Unlock()
			}
		}
	})
}
