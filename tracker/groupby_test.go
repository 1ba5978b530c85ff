package tracker

import (
	"fmt"
	"strings"
	"testing"
)

func TestParamsExcept(t *testing.T) {
	for _, tc := range []struct {
		in     string
		except []string
		ok     bool
		err    string
	}{
		{"params.* except seed", []string{"seed"}, true, ""},
		{"params.*", nil, true, ""},
		{"PARAMS.* EXCEPT seed, params.data.limit", []string{"seed", "data.limit"}, true, ""},
		{"params.beta", nil, false, ""},
		{"tags.*", nil, false, "only wildcard"},
		{"params.* except seed,", nil, true, "empty key"},
	} {
		except, ok, err := ParamsExcept(tc.in)
		if fmt.Sprint(except) != fmt.Sprint(tc.except) || ok != tc.ok || (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("ParamsExcept(%q) = %v, %v, %v", tc.in, except, ok, err)
		}
	}
}

// TestGroupByParams groups a β × latent grid over 3 seeds: one group per
// configuration, labelled by the params that vary, summarized over seeds.
func TestGroupByParams(t *testing.T) {
	db, _ := openTemp(t)
	for _, beta := range []float64{4, 1} {
		for _, latent := range []int{10, 2} {
			for seed := range 3 {
				rec, err := db.StartRun(RunInfo{Seed: int64(seed), Params: map[string]any{"beta": beta, "latent_dim": latent, "seed": seed, "lr": 0.001}})
				if err != nil {
					t.Fatal(err)
				}
				rec.LogMetric("test/nelbo", 1, 100*beta+float64(latent)+float64(seed))
				rec.Finish(StatusFinished, nil)
			}
		}
	}
	groups, err := db.Runs().GroupByParams([]string{"seed"}, "metrics.test/nelbo")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range groups {
		got = append(got, fmt.Sprintf("%s:%d:%g:%g", g.Label, g.Count, g.Mean, g.Std))
	}
	want := "beta=1 latent_dim=2:3:103:1 beta=1 latent_dim=10:3:111:1 beta=4 latent_dim=2:3:403:1 beta=4 latent_dim=10:3:411:1"
	if strings.Join(got, " ") != want {
		t.Errorf("groups:\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
	// Without except, every run is its own group.
	if all, _ := db.Runs().GroupByParams(nil, "metrics.test/nelbo"); len(all) != 12 {
		t.Errorf("%d groups with the seed, want 12", len(all))
	}
}
