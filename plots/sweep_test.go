package plots

import (
	"errors"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// savedPNG saves a figure and checks the file decodes as a w×h-inch PNG.
func savedPNG(t *testing.T, save func(path string) error, wIn, hIn float64) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fig.png")
	if err := save(path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width != int(wIn*DPI) || cfg.Height != int(hIn*DPI) {
		t.Errorf("figure is %d×%d px, want %v×%v in at %d dpi", cfg.Width, cfg.Height, wIn, hIn, DPI)
	}
}

func TestRateDistortion(t *testing.T) {
	pts := []RDPoint{{18.7, 139, "0.5"}, {12.3, 144, "1"}, {3.9, 165, "4"}, {0.1, 199, "16"}, {math.NaN(), 150, "1"}}
	p, err := RateDistortion(pts, CurveOptions{Title: "rd", XLabel: "rate", YLabel: "distortion"})
	if err != nil {
		t.Fatal(err)
	}
	if p.X.Min > 0 || p.X.Max < 18.7 || p.Y.Min > 139 || p.Y.Max < 199 {
		t.Errorf("axes [%g, %g] × [%g, %g] do not hold the points from rate 0", p.X.Min, p.X.Max, p.Y.Min, p.Y.Max)
	}
	savedPNG(t, func(path string) error { return Save(p, path, 7, 4.5) }, 7, 4.5)
	if got := groupOrder(pts); !slices.Equal(got, []string{"0.5", "1", "4", "16"}) {
		t.Errorf("groups in order %v, want numeric order", got)
	}
	if _, err := RateDistortion(nil, CurveOptions{}); !errors.Is(err, errNoData) {
		t.Errorf("no points: %v", err)
	}
	if _, err := RateDistortion([]RDPoint{{math.NaN(), 1, "a"}}, CurveOptions{}); !errors.Is(err, errNoData) {
		t.Errorf("no finite point: %v", err)
	}
}

func TestRungs(t *testing.T) {
	trials := []RungSeries{
		{Name: "trial 0", Budgets: []float64{1, 3, 9}, Values: []float64{120, 110, 100}},
		{Name: "trial 1", Budgets: []float64{1, 3}, Values: []float64{125, 118}, Pruned: true},
		{Name: "trial 2", Budgets: []float64{1}, Values: []float64{140}, Pruned: true},
	}
	p, err := Rungs(trials, CurveOptions{Title: "rungs", XLabel: "budget", YLabel: "metric"})
	if err != nil {
		t.Fatal(err)
	}
	if !isLog(p.X.Scale) {
		t.Error("budgets 1 to 9 should be on a log axis")
	}
	savedPNG(t, func(path string) error { return Save(p, path, 0, 0) }, defaultWidthIn, defaultHeightIn)
	trials[0].Values = trials[0].Values[:2]
	if _, err := Rungs(trials, CurveOptions{}); err == nil || !strings.Contains(err.Error(), `"trial 0" has 3 budgets but 2 values`) {
		t.Errorf("mismatched trial: %v", err)
	}
}

func TestParallelCoordinates(t *testing.T) {
	axes := []PCAxis{
		{Name: "train.lr", Values: []float64{1e-4, 1e-3, 1e-2}, Log: true},
		{Name: "hidden", Labels: []string{"400", "200", "400"}},
	}
	metric := PCAxis{Name: "val/nelbo", Values: []float64{130, 100, math.NaN()}}
	p, err := ParallelCoordinates(axes, metric, true, CurveOptions{Title: "pc"})
	if err != nil {
		t.Fatal(err)
	}
	savedPNG(t, func(path string) error { return Save(p, path, 8, 4.5) }, 8, 4.5)
	s := newPCScale(axes[0])
	if math.Abs(s.at(1)-0.5) > 1e-12 {
		t.Errorf("log axis puts 1e-3 at %g, want 0.5 between 1e-4 and 1e-2", s.at(1))
	}
	c := newPCScale(axes[1])
	if !slices.Equal(c.cats, []string{"200", "400"}) || c.at(0) != 1 || c.at(1) != 0 {
		t.Errorf("categorical axis %v: %g %g", c.cats, c.at(0), c.at(1))
	}
	if _, err := ParallelCoordinates(axes, PCAxis{Name: "m", Values: []float64{1}}, true, CurveOptions{}); err == nil || !strings.Contains(err.Error(), "3 values for 1 lines") {
		t.Errorf("mismatched axis: %v", err)
	}
	if metricRamp(0) == metricRamp(1) {
		t.Error("best and worst lines have the same colour")
	}
}
