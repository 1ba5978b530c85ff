package main

import (
	"bytes"
	"image/gif"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSamplesOfSequences: `vaexp samples` draws a sequence family's samples
// by the file extension — a frame strip (.png, one sequence per row) or an
// animated GIF (.gif, one frame per sequence frame) — and refuses a GIF of
// images, naming the format to use.
func TestSamplesOfSequences(t *testing.T) {
	e := newEnv(t)
	e.ok("train", "--model", "vrnn", "--data", "moving-mnist-1", "--steps", "4", "--batch-size", "16", "--limit", "64",
		"--test-limit", "16", "--samples", "2", "--quiet", "--set", "state=16", "--set", "features=16", "--set", "hidden=32")
	strip := filepath.Join(e.dir, "s.png")
	e.ok("samples", "last", "--out", strip, "-n", "3")
	w, h := checkPNGFile(t, strip)
	if w <= 3*h {
		t.Errorf("a strip of 3 sequences of 10 frames is %dx%d, want much wider than tall", w, h)
	}
	anim := filepath.Join(e.dir, "s.gif")
	e.ok("samples", "last", "--out", anim, "-n", "3")
	raw, err := os.ReadFile(anim)
	if err != nil {
		t.Fatal(err)
	}
	g, err := gif.DecodeAll(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("samples --out s.gif: %v", err)
	}
	if len(g.Image) != 10 {
		t.Errorf("GIF of 10-frame sequences has %d frames", len(g.Image))
	}

	e.ok("train", "--steps", "2", "--limit", "256", "--test-limit", "32", "--batch-size", "32", "--samples", "0", "--quiet")
	if code := e.run("samples", "last", "--out", filepath.Join(e.dir, "m.gif")); code != 1 || !strings.Contains(e.stderr, ".png") {
		t.Errorf("GIF of MNIST samples: exit %d, stderr %q; want 1 and an error naming .png", code, e.stderr)
	}
}
