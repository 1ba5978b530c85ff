package tracker

import (
	"fmt"
	"sync/atomic"
	"testing"
)

// BenchmarkLogMetric measures the cost a training step pays per metric: an
// append under a mutex (the background flusher runs meanwhile).
func BenchmarkLogMetric(b *testing.B) {
	db, _ := openTemp(b)
	rec, err := db.StartRun(RunInfo{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := int64(0)
	for b.Loop() {
		rec.LogMetric("loss", i, 1.5)
		i++
	}
	b.StopTimer()
	if err := rec.Finish(StatusFinished, nil); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkFlush writes 5 metrics x 100 steps in one transaction.
func BenchmarkFlush(b *testing.B) {
	db, _ := openTemp(b)
	rec, err := db.StartRun(RunInfo{})
	if err != nil {
		b.Fatal(err)
	}
	rec.stopFlusher() // measure only the explicit flushes
	keys := []string{"loss", "recon", "kl", "beta", "lr"}
	step := int64(0)
	b.ReportMetric(500, "rows/op")
	for b.Loop() {
		b.StopTimer()
		for range 100 {
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

// BenchmarkLogMetricParallel is LogMetric from several goroutines at once.
func BenchmarkLogMetricParallel(b *testing.B) {
	db, _ := openTemp(b)
	rec, err := db.StartRun(RunInfo{})
	if err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		key := fmt.Sprintf("g%d", n.Add(1))
		i := int64(0)
		for pb.Next() {
			rec.LogMetric(key, i, 1)
			i++
		}
	})
	b.StopTimer()
	rec.Finish(StatusFinished, nil)
}
