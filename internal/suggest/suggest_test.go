package suggest

import "testing"

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "abc", 3}, {"beta", "beta", 0},
		{"beat", "beta", 2}, {"kitten", "sitting", 3}, {"metric", "metrics", 1},
		{"β", "b", 1}, // one rune, not two bytes
	} {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestClosest(t *testing.T) {
	cands := []string{"params", "metrics", "tags"}
	for _, c := range []struct {
		s    string
		max  int
		want string
	}{
		{"metric", 2, "metrics"}, {"param", 2, "params"}, {"tag", 2, "tags"},
		{"xyz", 2, ""}, {"metr", 2, ""}, {"metr", 3, "metrics"},
		{"tags", 0, "tags"},
	} {
		if got := Closest(c.s, cands, c.max); got != c.want {
			t.Errorf("Closest(%q, max %d) = %q, want %q", c.s, c.max, got, c.want)
		}
	}
	// Ties go to the first candidate.
	if got := Closest("ab", []string{"ac", "ad"}, 2); got != "ac" {
		t.Errorf("tie: %q, want ac", got)
	}
}
