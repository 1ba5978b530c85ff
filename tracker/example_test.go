package tracker_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/vaexp/vaexp/tracker"
)

// A notebook's view of a β sweep: the best runs, and the mean and spread
// of the final test NELBO over seeds for each β.
func Example() {
	dir, _ := os.MkdirTemp("", "vaexp-example")
	defer os.RemoveAll(dir)
	db, err := tracker.Open(filepath.Join(dir, "vaexp.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	for i, beta := range []float64{1, 1, 4, 4} {
		rec, _ := db.StartRun(tracker.RunInfo{Family: "beta-vae", Sweep: "beta", Seed: int64(i), Params: map[string]any{"beta": beta}})
		rec.LogMetric("test/nelbo", 0, 90+beta+float64(i))
		rec.Finish(tracker.StatusFinished, nil)
	}

	rows, err := db.Runs().Where("sweep = 'beta' AND params.beta >= 1").
		OrderBy("metrics.test/nelbo asc").Limit(2).All()
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range rows {
		fmt.Println(r.ID, r.Params["beta"], r.Metrics["test/nelbo"].Value)
	}
	groups, err := db.Group("status = 'finished'", "params.beta", "metrics.test_nelbo")
	if err != nil {
		log.Fatal(err)
	}
	for _, g := range groups {
		fmt.Printf("beta=%s n=%d mean=%.1f std=%.3f\n", g.Label, g.Count, g.Mean, g.Std)
	}
	_, err = db.Runs().Where("params.beta = 4 AND )").All()
	fmt.Println(err)
	// Output:
	// 1 1 91
	// 2 1 92
	// beta=1 n=2 mean=91.5 std=0.707
	// beta=4 n=2 mean=96.5 std=0.707
	// filter: unexpected ')', expected a field such as params.beta, metrics.test/nelbo or status at column 21
}
