package experiments

import (
	"slices"
	"testing"
)

func TestMetrics(t *testing.T) {
	for _, tc := range []struct {
		family      string
		val, iwae   int
		want, wantN []string
	}{
		{"vae", 0, 0, []string{"train/kl", "test/nelbo", "test/recon", "time/train_seconds"}, []string{"val/nelbo", "test/iwae_nll"}},
		{"vae", 100, 10, []string{"val/nelbo", "test/iwae_nll"}, nil},
		{"beta-tcvae", 0, 0, []string{"test/tc", "train/mi", "test/dwkl"}, []string{"test/kl_gap"}},
		{"ae", 0, 10, []string{"test/recon", "test/loss"}, []string{"test/kl", "test/nelbo", "test/iwae_nll"}},
	} {
		spec := DefaultSpec()
		spec.Family, spec.Data.Val, spec.Eval.IWAEK = tc.family, tc.val, tc.iwae
		got, err := Metrics(spec)
		if err != nil {
			t.Fatalf("%s: %v", tc.family, err)
		}
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("%s (val %d, iwae %d): %v lacks %s", tc.family, tc.val, tc.iwae, got, w)
			}
		}
		for _, w := range tc.wantN {
			if slices.Contains(got, w) {
				t.Errorf("%s (val %d, iwae %d): %v has %s", tc.family, tc.val, tc.iwae, got, w)
			}
		}
	}
	spec := DefaultSpec()
	spec.Family = "nosuch"
	if _, err := Metrics(spec); err == nil {
		t.Error("an unknown family has metrics")
	}
}
