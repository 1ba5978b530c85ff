package experiments

import (
	"fmt"
	"strconv"

	"gonum.org/v1/gonum/stat"

	"github.com/vaexp/vaexp/experiments/data"
	"github.com/vaexp/vaexp/experiments/eval"
	"github.com/vaexp/vaexp/tracker"
)

// Content swaps through the generic capabilities: a family whose code per
// sequence is [content ; dynamics] (seq-vae's Encode) gives one sequence
// another's content by copying the first values of its code, and Decode
// draws the result.

// SwapContent decodes, for each i, the code of b[i] with its first
// contentDim values (the content) replaced by a[i]'s: a[i]'s content moving
// as b[i] moves, for a family whose Encode lays codes out as [content ;
// dynamics] and which decodes such codes (seq-vae).
func (t *Trained) SwapContent(a, b Examples, contentDim int) ([][]float32, error) {
	swapped, _, err := t.swapContent(a, b, contentDim)
	return swapped, err
}

// swapContent is SwapContent, also returning b decoded from its own codes.
func (t *Trained) swapContent(a, b Examples, contentDim int) (swapped, ownB [][]float32, err error) {
	if a.Len() != b.Len() {
		return nil, nil, fmt.Errorf("swap content: %d sequences to take content from, %d to take motion from; pair them one to one", a.Len(), b.Len())
	}
	ca, err := t.Encode(a)
	if err != nil {
		return nil, nil, err
	}
	cb, err := t.Encode(b)
	if err != nil {
		return nil, nil, err
	}
	codes := make([][]float32, 0, 2*len(ca))
	for i := range ca {
		if contentDim < 1 || contentDim >= len(ca[i]) {
			return nil, nil, fmt.Errorf("swap content: content_dim %d of codes of %d values: want 1..%d", contentDim, len(ca[i]), len(ca[i])-1)
		}
		codes = append(codes, append(append([]float32(nil), ca[i][:contentDim]...), cb[i][contentDim:]...))
	}
	codes = append(codes, cb...)
	decoded, err := t.Decode(codes, nil)
	if err != nil {
		return nil, nil, err
	}
	return decoded[:len(ca)], decoded[len(ca):], nil
}

// SwapReport measures content swaps on a one-digit Moving MNIST test set,
// where the truth says which digit each sequence shows and where. For each
// pair (A, B) of test sequences with different digits, the swap is A's
// content with B's dynamics; a perfect one shows A's digit moving along B's
// path (the target, drawn from the truth). Correlations are Pearson's over
// every pixel of every frame, averaged over the pairs.
type SwapReport struct {
	// Pairs is the number of pairs measured.
	Pairs int
	// Target is the swaps' correlation with the target: A's digit on B's path.
	Target float64
	// WithB is their correlation with B (B's digit on B's path): high if
	// the content did not move.
	WithB float64
	// WithA is their correlation with A (A's digit on A's path): high if
	// the motion did not move.
	WithA float64
	// ContentMoved is the fraction of pairs whose swap is closer to the
	// target than to B, MotionKept the fraction closer to the target than to A.
	ContentMoved, MotionKept float64
	// Transfer is the correlation of what the swap changed with what it
	// should change: of swap − B′ (B′ is B decoded from its own code) with
	// target − B, averaged over pairs. Position dominates the correlations
	// above, so that a swap that changed nothing is still close to the
	// target; Transfer is 0 then, and 1 for a swap that redraws B with A's
	// digit exactly.
	Transfer float64
	// A, B, Swapped and Targets are the first pairs' sequences, for showing.
	A, B, Swapped, Targets [][]float32
	// ContentDim is the length of the content part of the codes swapped.
	ContentDim int
}

// SwapVersion names the definition of the swap figures, recorded with them.
const SwapVersion = "content-swap/v1"

// Evaluations are the report's figures as tracker rows (eval/swap_target,
// eval/swap_with_b, eval/swap_with_a, eval/swap_content_moved,
// eval/swap_motion_kept, eval/swap_transfer), each described by SwapVersion and its settings,
// for tracker.DB.RecordEvaluations.
func (r SwapReport) Evaluations() []tracker.Evaluation {
	settings := map[string]string{"pairs": strconv.Itoa(r.Pairs), "content_dim": strconv.Itoa(r.ContentDim), "split": "test"}
	var values []eval.Value
	for _, v := range []struct {
		name  string
		value float64
	}{{"swap_target", r.Target}, {"swap_with_b", r.WithB}, {"swap_with_a", r.WithA}, {"swap_content_moved", r.ContentMoved},
		{"swap_motion_kept", r.MotionKept}, {"swap_transfer", r.Transfer}} {
		values = append(values, eval.Value{Name: v.name, Value: v.value, Version: SwapVersion, Settings: settings})
	}
	return EvaluationRows(values)
}

// MeasureSwaps swaps content between n pairs of test sequences of the run's
// one-digit Moving MNIST (test sequence i with a later one of another
// digit) and scores them against the truth (see SwapReport); contentDim is
// the length of the content part of the family's codes. shown pairs are
// kept for drawing.
func (t *Trained) MeasureSwaps(n, contentDim, shown int) (SwapReport, error) {
	ds, err := data.Get(t.Spec.Data.Name)
	if err != nil {
		return SwapReport{}, err
	}
	mm, ok := ds.(data.MovingMNIST)
	if !ok || mm.Digits != 1 {
		return SwapReport{}, fmt.Errorf("swap scores need a one-digit Moving MNIST (moving-mnist-1), not %s", t.Spec.Data.Name)
	}
	splits, err := ds.Load(data.LoadOptions{Dir: t.Spec.Data.Dir, Seed: t.Spec.Data.Seed})
	if err != nil {
		return SwapReport{}, err
	}
	truthOf := splits.Test.(*data.MovingSplit).Truth
	ex, err := t.Examples("test", 4*n)
	if err != nil {
		return SwapReport{}, err
	}
	// Pair sequence i with the next unused one of another digit.
	var a, b Examples
	used := make([]bool, ex.Len())
	for i := 0; i < ex.Len() && a.Len() < n; i++ {
		if used[i] {
			continue
		}
		for j := i + 1; j < ex.Len(); j++ {
			if !used[j] && ex.Labels[j] != ex.Labels[i] {
				used[i], used[j] = true, true
				a.Images, a.Labels = append(a.Images, ex.Images[i]), append(a.Labels, i)
				b.Images, b.Labels = append(b.Images, ex.Images[j]), append(b.Labels, j)
				break
			}
		}
	}
	if a.Len() == 0 {
		return SwapReport{}, fmt.Errorf("swap scores: no pair of test sequences with different digits among the first %d", ex.Len())
	}
	// Labels held the indices; the model sees the digits' classes.
	ia, ib := a.Labels, b.Labels
	a.Labels, b.Labels = make([]int, len(ia)), make([]int, len(ib))
	for k := range ia {
		a.Labels[k], b.Labels[k] = ex.Labels[ia[k]], ex.Labels[ib[k]]
	}
	swapped, ownB, err := t.swapContent(a, b, contentDim)
	if err != nil {
		return SwapReport{}, err
	}
	rep := SwapReport{Pairs: a.Len(), ContentDim: contentDim}
	for k := range swapped {
		target := moveDigit(mm, a.Images[k], truthOf(ia[k]), truthOf(ib[k]))
		sw := toFloat64(swapped[k])
		cT, cB, cA := stat.Correlation(sw, toFloat64(target), nil), stat.Correlation(sw, toFloat64(b.Images[k]), nil), stat.Correlation(sw, toFloat64(a.Images[k]), nil)
		rep.Target += cT
		rep.WithB += cB
		rep.WithA += cA
		rep.Transfer += stat.Correlation(diff(sw, toFloat64(ownB[k])), diff(toFloat64(target), toFloat64(b.Images[k])), nil)
		if cT > cB {
			rep.ContentMoved++
		}
		if cT > cA {
			rep.MotionKept++
		}
		if k < shown {
			rep.A, rep.B = append(rep.A, a.Images[k]), append(rep.B, b.Images[k])
			rep.Swapped, rep.Targets = append(rep.Swapped, swapped[k]), append(rep.Targets, target)
		}
	}
	p := float64(rep.Pairs)
	rep.Target, rep.WithB, rep.WithA = rep.Target/p, rep.WithB/p, rep.WithA/p
	rep.ContentMoved, rep.MotionKept, rep.Transfer = rep.ContentMoved/p, rep.MotionKept/p, rep.Transfer/p
	return rep, nil
}

// moveDigit draws the digit of sequence a (made as truthA says) along the
// path of another sequence (truthB): the digit is cut from a's first frame
// at its recorded position and pasted at each of b's positions.
func moveDigit(mm data.MovingMNIST, a []float32, truthA, truthB data.MovingTruth) []float32 {
	side, ds := mm.Side, mm.DigitSide
	frame := side * side
	digit := make([]float32, ds*ds)
	top, left := truthA.Top[0][0], truthA.Left[0][0]
	for r := range ds {
		copy(digit[r*ds:(r+1)*ds], a[(top+r)*side+left:(top+r)*side+left+ds])
	}
	out := make([]float32, mm.Frames*frame)
	for f := range mm.Frames {
		top, left := truthB.Top[0][f], truthB.Left[0][f]
		for r := range ds {
			copy(out[f*frame+(top+r)*side+left:], digit[r*ds:(r+1)*ds])
		}
	}
	return out
}

func toFloat64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// diff is a − b.
func diff(a, b []float64) []float64 {
	out := make([]float64, len(a))
	for i := range a {
		out[i] = a[i] - b[i]
	}
	return out
}
