package main

import (
	"strings"
	"testing"
)

// TestAnomalyCommand trains without one digit and scores it through the CLI.
func TestAnomalyCommand(t *testing.T) {
	e := newEnv(t)
	e.ok("train", "--exclude-classes", "3", "--limit", "512", "--test-limit", "200", "--batch-size", "64", "--steps", "4", "--samples", "0", "--quiet")
	out := e.ok("eval", "1", "--metrics", "anomaly", "-n", "120", "--anomaly-k", "2")
	for _, want := range []string{"eval/anomaly/heldout/nelbo", "eval/anomaly/heldout/iwae", "eval/anomaly/heldout/recon",
		"eval/anomaly/noise/iwae", "eval/anomaly/occlusion/recon", "eval/anomaly/rotation/nelbo",
		"anomaly-auroc/v1", "excluded=3", "k=2", "recorded 12 figures in run 1 at step 4"} {
		if !strings.Contains(out, want) {
			t.Errorf("eval output lacks %q:\n%s", want, out)
		}
	}
	show := e.ok("runs", "show", "1")
	for _, want := range []string{"data.exclude_classes", "eval/anomaly/heldout/iwae"} {
		if !strings.Contains(show, want) {
			t.Errorf("runs show lacks %q:\n%s", want, show)
		}
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"train", "--exclude-classes", "12", "--steps", "1"}, 1, "class 12 is not one of data mnist's classes 0..9"},
		{[]string{"train", "--exclude-classes", "x", "--steps", "1"}, 2, "exclude-classes"},
		{[]string{"eval", "1", "--metrics", "anomaly", "--anomaly-k", "0"}, 2, "--anomaly-k at least 1"},
	} {
		if code := e.run(tc.args...); code != tc.code || !strings.Contains(e.stderr, tc.want) {
			t.Errorf("vaexp %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), code, e.stderr, tc.code, tc.want)
		}
	}
}

// TestLatentCommand draws a run's latent pictures through the CLI.
func TestLatentCommand(t *testing.T) {
	e := newEnv(t)
	e.ok("train", "--model", "cvae", "--limit", "512", "--test-limit", "100", "--batch-size", "64", "--steps", "4", "--samples", "0", "--quiet")
	out := e.ok("latent", "1", "--steps", "5", "-n", "60")
	for _, want := range []string{"traversals.png", "interpolations.png", "conditional.png", "latent_pca.png", "stored as artifacts of run 1 and written to"} {
		if !strings.Contains(out, want) {
			t.Errorf("latent output lacks %q:\n%s", want, out)
		}
	}
	show := e.ok("runs", "show", "1")
	if !strings.Contains(show, "traversals.png") {
		t.Errorf("runs show lists no traversals.png:\n%s", show)
	}
	if code := e.run("latent", "1", "--steps", "1"); code != 2 || !strings.Contains(e.stderr, "--steps >= 2") {
		t.Errorf("latent --steps 1: exit %d, %q", code, e.stderr)
	}
	if code := e.run("latent", "1", "--span", "inf"); code != 2 || !strings.Contains(e.stderr, "a finite --span > 0") {
		t.Errorf("latent --span inf: exit %d, %q", code, e.stderr)
	}
}
