// Package suggest finds the known word closest to a mistyped one, for the
// "did you mean …?" hints of error messages (filter fields, sweep keys).
//
// Written by hand because the standard library has no edit distance and
// cobra keeps its own (used for command names) unexported.
package suggest

// Closest returns the first candidate at the smallest edit distance from s,
// if that distance is at most maxDist; otherwise "".
func Closest(s string, cands []string, maxDist int) string {
	best, bestD := "", maxDist+1
	for _, c := range cands {
		if d := Distance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// Distance is the Levenshtein distance between a and b, counted in runes.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
