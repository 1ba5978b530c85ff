package main

import (
	"bytes"
	"image/gif"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vaexp/vaexp/experiments/data"
)

func TestDatasets(t *testing.T) {
	e := newEnv(t)
	list := e.ok("datasets")
	for _, name := range data.Names() {
		if !strings.Contains(list, name) {
			t.Errorf("datasets does not list %s:\n%s", name, list)
		}
	}
	desc := e.ok("datasets", "shapes")
	for _, want := range []string{"orientation", "40", "heart", "727280 train", "generation:", "--preview"} {
		if !strings.Contains(desc, want) {
			t.Errorf("datasets shapes lacks %q:\n%s", want, desc)
		}
	}
	if desc := e.ok("datasets", "regimes"); !strings.Contains(desc, "switch points") || !strings.Contains(desc, "shocks") {
		t.Errorf("datasets regimes does not describe its generation:\n%s", desc)
	}

	gifPath := filepath.Join(e.dir, "moving.gif")
	out := e.ok("datasets", "moving-mnist-1", "--preview", gifPath, "-n", "2", "--seed", "3")
	if !strings.Contains(out, "wrote "+gifPath) || !strings.Contains(out, "seed 3") {
		t.Errorf("preview output: %q", out)
	}
	b, _ := os.ReadFile(gifPath)
	g, err := gif.DecodeAll(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("preview is not a GIF: %v", err)
	}
	// 10 frames of 2 sequences of 32×32 side by side, ×2, 1 px separators.
	if b := g.Image[0].Bounds(); len(g.Image) != 10 || b.Dx() != 2*64+3 || b.Dy() != 64+2 {
		t.Errorf("GIF of %d frames of %v", len(g.Image), b)
	}
	pngPath := filepath.Join(e.dir, "regimes.png")
	e.ok("datasets", "regimes", "--preview", pngPath)
	b, _ = os.ReadFile(pngPath)
	if _, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Errorf("series preview is not a PNG: %v", err)
	}

	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"datasets", "--preview", "x.png"}, 2, []string{"NAME"}},
		{[]string{"datasets", "nope", "--preview", "x.png"}, 2, []string{`"nope"`, "shapes"}},
		{[]string{"datasets", "shapes", "--preview", "x.gif"}, 1, []string{".png", ".gif"}},
		{[]string{"datasets", "sines", "--preview", "x.png", "-n", "-1"}, 2, []string{"-1"}},
	} {
		args := append([]string{}, tc.args...)
		for i, a := range args {
			if strings.HasPrefix(a, "x.") {
				args[i] = filepath.Join(e.dir, a)
			}
		}
		if code := e.run(args...); code != tc.code {
			t.Errorf("%v: exit %d, want %d\n%s", tc.args, code, tc.code, e.stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(e.stderr, w) {
				t.Errorf("%v: error lacks %q: %s", tc.args, w, e.stderr)
			}
		}
		if _, err := os.Stat(filepath.Join(e.dir, "x.gif")); err == nil {
			t.Errorf("%v left a file", tc.args)
		}
	}
}
