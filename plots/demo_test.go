package plots

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestDemoFigures writes example figures for a person to look at; it runs
// only when PLOTS_DEMO_DIR names a directory:
//
//	PLOTS_DEMO_DIR=/tmp/plots-demo go test ./plots/ -run Demo
func TestDemoFigures(t *testing.T) {
	dir := os.Getenv("PLOTS_DEMO_DIR")
	if dir == "" {
		t.Skip("set PLOTS_DEMO_DIR to write the demo figures")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out := func(name string) string { return filepath.Join(dir, name) }
	rng := rand.New(rand.NewPCG(1, 2))

	// ELBO terms per epoch, train and test, with a diverged stretch in test.
	epochs := 50
	term := func(start, end, rate, noise float64, gapFrom, gapTo int) Series {
		s := Series{X: make([]float64, epochs), Y: make([]float64, epochs)}
		for e := range epochs {
			s.X[e] = float64(e + 1)
			s.Y[e] = end + (start-end)*math.Exp(-rate*float64(e)) + noise*rng.NormFloat64()
			if e >= gapFrom && e < gapTo {
				s.Y[e] = math.NaN()
			}
		}
		return s
	}
	named := func(s Series, name string) Series { s.Name = name; return s }
	recon := Panel{Title: "reconstruction", YLabel: "nats / example", Series: []Series{
		named(term(210, 78, 0.12, 0.6, -1, -1), "train"), named(term(205, 84, 0.11, 1.2, 20, 24), "test")}}
	kl := Panel{Title: "KL", YLabel: "nats / example", Series: []Series{
		named(term(4, 26, 0.15, 0.3, -1, -1), "train"), named(term(4, 25, 0.14, 0.4, 20, 24), "test")}}
	total := Panel{Title: "total (−ELBO)", YLabel: "nats / example", Series: []Series{
		named(term(214, 104, 0.12, 0.6, -1, -1), "train"), named(term(209, 109, 0.11, 1.2, 20, 24), "test")}}
	if err := SavePanels(out("panels.png"), []Panel{recon, kl, total}, 3, CurveOptions{Title: "run 7 — VAE, MNIST, z=16", XLabel: "epoch"}); err != nil {
		t.Fatal(err)
	}
	if err := SavePanels(out("panels.svg"), []Panel{recon, kl, total}, 2, CurveOptions{XLabel: "epoch", LogY: true}); err != nil {
		t.Fatal(err)
	}

	// Noisy per-step loss for several β, smoothed.
	var steps []Series
	for i, beta := range []float64{0.5, 1, 2, 4, 8} {
		s := Series{Name: "β=" + strconv.FormatFloat(beta, 'g', -1, 64)}
		for k := 0; k < 1500; k++ {
			s.X = append(s.X, float64(k*10))
			s.Y = append(s.Y, 90+10*float64(i)+120*math.Exp(-float64(k)/150)+6*rng.NormFloat64())
		}
		steps = append(steps, s)
	}
	p, err := Curves(steps, CurveOptions{Title: "training loss by β", XLabel: "step", YLabel: "loss (nats)", Smooth: 50})
	if err != nil {
		t.Fatal(err)
	}
	if err := Save(p, out("curves_smooth.png"), 0, 0); err != nil {
		t.Fatal(err)
	}
	p, err = Curves(steps, CurveOptions{Title: "training loss by β (log y)", XLabel: "step", YLabel: "loss (nats)", LogY: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := Save(p, out("curves_log.png"), 0, 0); err != nil {
		t.Fatal(err)
	}
	// A rising curve (accuracy-like) to see the legend move.
	acc := Series{Name: "probe accuracy"}
	acc2 := Series{Name: "baseline"}
	for k := 0; k < 40; k++ {
		acc.X = append(acc.X, float64(k))
		acc.Y = append(acc.Y, 0.95-0.85*math.Exp(-float64(k)/8))
		acc2.X = append(acc2.X, float64(k))
		acc2.Y = append(acc2.Y, 0.90-0.80*math.Exp(-float64(k)/12))
	}
	p, err = Curves([]Series{acc, acc2}, CurveOptions{Title: "rising curves", XLabel: "epoch", YLabel: "accuracy"})
	if err != nil {
		t.Fatal(err)
	}
	if err := Save(p, out("curves_rising.png"), 0, 0); err != nil {
		t.Fatal(err)
	}

	// Digit-like images: a ring and a bar in each 28×28 image.
	makeImg := func(k int, blur float64) []float32 {
		img := make([]float32, 28*28)
		cx, cy := 14+3*math.Cos(float64(k)), 14+3*math.Sin(float64(k))
		for y := range 28 {
			for x := range 28 {
				d := math.Hypot(float64(x)-cx, float64(y)-cy)
				v := math.Exp(-(d - 7) * (d - 7) / (2 * blur * blur))
				if k%3 == 0 && math.Abs(float64(x)-cx) < 1.5 && math.Abs(float64(y)-cy) < 9 {
					v = 1
				}
				img[y*28+x] = float32(v)
			}
		}
		return img
	}
	var orig, rec []float32
	var origs, recs [][]float32
	for k := range 16 {
		orig, rec = makeImg(k, 1.0), makeImg(k, 2.2)
		origs, recs = append(origs, orig), append(recs, rec)
	}
	g, err := ImageGrid(origs, 28, 28, 8, GridOptions{Scale: 2, Pad: 2, Border: 128})
	if err != nil {
		t.Fatal(err)
	}
	if err := SaveImage(g, out("samples.png")); err != nil {
		t.Fatal(err)
	}
	g, err = ReconstructionGrid(origs, recs, 28, 28, 8, GridOptions{Scale: 2, Pad: 2, Border: 128})
	if err != nil {
		t.Fatal(err)
	}
	if err := SaveImage(g, out("recon.png")); err != nil {
		t.Fatal(err)
	}
	if err := SaveImage(g, out("recon.svg")); err != nil {
		t.Fatal(err)
	}

	// Ten Gaussian blobs in 2-D latent space.
	var xs, ys []float64
	var labels []int
	for i := 0; i < 3000; i++ {
		c := rng.IntN(10)
		a := 2 * math.Pi * float64(c) / 10
		xs = append(xs, 3*math.Cos(a)+0.8*rng.NormFloat64())
		ys = append(ys, 3*math.Sin(a)+0.8*rng.NormFloat64())
		labels = append(labels, c)
	}
	p, err = LatentScatter(xs, ys, labels, CurveOptions{Title: "latent means, test set", XLabel: "z₁", YLabel: "z₂"})
	if err != nil {
		t.Fatal(err)
	}
	if err := Save(p, out("latent.png"), 0, 0); err != nil {
		t.Fatal(err)
	}

	groups := []Group{
		{Label: "VAE", Mean: 96.1, Std: 0.8, Min: 95.2, Max: 97.4, N: 5},
		{Label: "β-VAE", Mean: 101.3, Std: 1.4, Min: 99.0, Max: 103.1, N: 5},
		{Label: "IWAE", Mean: 93.4, Std: 0.5, Min: 92.9, Max: 94.2, N: 3},
		{Label: "VQ-VAE", Mean: 88.7, Std: 2.1, Min: 85.5, Max: 91.0, N: 4},
	}
	p, err = ErrorBars(groups, CurveOptions{Title: "test −ELBO by family", YLabel: "nats / example"})
	if err != nil {
		t.Fatal(err)
	}
	if err := Save(p, out("errorbars_cat.png"), 0, 0); err != nil {
		t.Fatal(err)
	}
	var sweep []Group
	for _, b := range []float64{0.25, 0.5, 1, 2, 4, 8} {
		m := 92 + 2.5*math.Log2(b+1)
		sweep = append(sweep, Group{Label: strconv.FormatFloat(b, 'g', -1, 64), Mean: m, Std: 0.6 + 0.1*b, Min: m - 1.2 - 0.15*b, Max: m + 1.1 + 0.2*b, N: 5})
	}
	p, err = ErrorBars(sweep, CurveOptions{Title: "β sweep", XLabel: "β", YLabel: "test −ELBO (nats)"})
	if err != nil {
		t.Fatal(err)
	}
	if err := Save(p, out("errorbars_num.png"), 0, 0); err != nil {
		t.Fatal(err)
	}

	// Sequences: a blob bouncing in 24×24 frames, four sequences.
	var seqs [][]float32
	for i := range 4 {
		seq := make([]float32, 12*24*24)
		for f := range 12 {
			cx := 4 + math.Abs(math.Mod(float64(f*(i+2))+3*float64(i), 32)-16)
			cy := 4 + math.Abs(math.Mod(float64(f*3+5*i), 32)-16)
			for y := range 24 {
				for x := range 24 {
					seq[f*576+y*24+x] = float32(math.Exp(-(math.Pow(float64(x)-cx, 2) + math.Pow(float64(y)-cy, 2)) / 8))
				}
			}
		}
		seqs = append(seqs, seq)
	}
	strip, err := FrameStrip(seqs, 12, 24, 24, GridOptions{Scale: 2, Border: 96})
	if err != nil {
		t.Fatal(err)
	}
	if err := SaveImage(strip, out("strip.png")); err != nil {
		t.Fatal(err)
	}
	anim, err := SequenceGIF(seqs, 12, 24, 24, GIFOptions{Grid: GridOptions{Scale: 3, Border: 96}, Cols: 2, Hold: 50})
	if err != nil {
		t.Fatal(err)
	}
	if err := SaveGIF(anim, out("sequences.gif")); err != nil {
		t.Fatal(err)
	}
	if err := SaveImage(anim.Image[5], out("sequences_frame5.png")); err != nil { // a GIF frame, for a PNG viewer
		t.Fatal(err)
	}

	// A forecast of a noisy seasonal series from 40 sampled continuations.
	truth := make([]float32, 96)
	for i := range truth {
		truth[i] = float32(math.Sin(2*math.Pi*float64(i)/16) + 0.01*float64(i) + 0.1*rng.NormFloat64())
	}
	var conts [][]float32
	for range 40 {
		c := make([]float32, 40)
		drift := 0.02 * rng.NormFloat64()
		for k := range c {
			c[k] = float32(math.Sin(2*math.Pi*float64(56+k)/16) + 0.56 + drift*float64(k) + 0.15*rng.NormFloat64())
		}
		conts = append(conts, c)
	}
	p, err = ForecastPlot(Forecast{Truth: truth, Prefix: 56, Samples: conts}, CurveOptions{Title: "forecast from step 56", XLabel: "step", YLabel: "value"})
	if err != nil {
		t.Fatal(err)
	}
	if err := Save(p, out("forecast.png"), 0, 0); err != nil {
		t.Fatal(err)
	}
}
