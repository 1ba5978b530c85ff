// Command cvaecontrol measures how well a CVAE draws the digit it is asked
// for, as notebook 04's control row does: it trains a cvae run (recorded in
// the tracker database DB), decodes 100 prior draws per digit with that
// digit's label, and prints the share the LeNet classifier reads as asked,
// with the confusion counts (row: digit asked, columns: digit read).
//
//	GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=simd go run ./bench/cvaecontrol -epochs 10 -limit 0 -db out/cvae.db
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/vaexp/vaexp/experiments"
	"github.com/vaexp/vaexp/experiments/eval"
	"github.com/vaexp/vaexp/notebooks"
	"github.com/vaexp/vaexp/tracker"
)

func main() {
	epochs := flag.Int("epochs", 3, "training epochs")
	limit := flag.Int("limit", 20000, "training images (0: all 60,000)")
	dbPath := flag.String("db", "out/cvae-control.db", "tracker database")
	flag.Parse()
	if err := run(*epochs, *limit, *dbPath); err != nil {
		fmt.Fprintln(os.Stderr, "cvaecontrol:", err)
		os.Exit(1)
	}
}

func run(epochs, limit int, dbPath string) error {
	db, err := tracker.Open(dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	spec := experiments.DefaultSpec()
	spec.Family, spec.Name = "cvae", fmt.Sprintf("cvae-control-%dep-%d", epochs, limit)
	spec.Train.Epochs, spec.Train.BatchSize = epochs, 128
	spec.Data.Limit, spec.Eval.Samples = limit, 0
	res, err := experiments.Run(context.Background(), spec, experiments.Options{DB: db, OutDir: "out/cvae-control-runs"})
	if err != nil {
		return err
	}
	backend, err := experiments.NewBackend()
	if err != nil {
		return err
	}
	clf, _, err := eval.LoadClassifier(backend, eval.ClassifierOptions{})
	if err != nil {
		return err
	}
	cv, err := experiments.Load(db, res.RunID)
	if err != nil {
		return err
	}
	rows, err := db.Runs().IDsIn(res.RunID).All()
	if err != nil {
		return err
	}
	dim, ok := rows[0].Params["latent_dim"].(int64)
	if !ok {
		return fmt.Errorf("run %d records no integer latent_dim (%v)", res.RunID, rows[0].Params["latent_dim"])
	}
	const perDigit = 100
	codes, asked := make([][]float32, 10*perDigit), make([]int, 10*perDigit)
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range codes {
		codes[i] = make([]float32, dim)
		for j := range codes[i] {
			codes[i][j] = float32(rng.NormFloat64())
		}
		asked[i] = i / perDigit
	}
	imgs, err := cv.Decode(codes, asked)
	if err != nil {
		return err
	}
	read, _, err := notebooks.Classify(clf, imgs)
	if err != nil {
		return err
	}
	var confusion [10][10]int
	agree := 0
	for i := range read {
		confusion[asked[i]][read[i]]++
		if read[i] == asked[i] {
			agree++
		}
	}
	images := "all"
	if limit > 0 {
		images = fmt.Sprint(limit)
	}
	fmt.Printf("run %d: cvae, %d epochs of %s training images, test NELBO %.1f: %.1f %% of %d draws read as the digit asked\n",
		res.RunID, epochs, images, res.Metrics["test/nelbo"], 100*float64(agree)/float64(len(read)), len(read))
	fmt.Println("asked  read as 0..9")
	for k, row := range confusion {
		fmt.Println(k, row)
	}
	return nil
}
