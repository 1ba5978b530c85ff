package data

import (
	"math"
	"slices"
	"testing"
)

// indexed returns n 1×2 images whose pixels encode their index (i%256, i/256)
// and whose label is i%10, so copies can be traced back.
func indexed(n int) *Images {
	im := &Images{N: n, Height: 1, Width: 2, Pixels: make([]uint8, 2*n), Labels: make([]uint8, n), Name: "indexed"}
	for i := range n {
		im.Pixels[2*i], im.Pixels[2*i+1], im.Labels[i] = uint8(i%256), uint8(i/256), uint8(i%10)
	}
	return im
}

// indices returns the example index encoded in each image of im.
func indices(im *Images) []int {
	out := make([]int, im.N)
	for i := range out {
		out[i] = int(im.Pixels[2*i]) + 256*int(im.Pixels[2*i+1])
	}
	return out
}

func TestSubsetAndHead(t *testing.T) {
	im := indexed(10)
	sub := im.Subset([]int{7, 2, 2})
	if got := indices(sub); !slices.Equal(got, []int{7, 2, 2}) || !slices.Equal(sub.Labels, []uint8{7, 2, 2}) {
		t.Fatalf("Subset gave %v, labels %v", got, sub.Labels)
	}
	sub.Pixels[0] = 99
	if im.Pixels[14] != 7 {
		t.Fatal("Subset shares memory with its source")
	}

	for _, tc := range []struct{ n, want int }{{3, 3}, {0, 0}, {-1, 0}, {10, 10}, {11, 10}} {
		h := im.Head(tc.n)
		if h.N != tc.want || len(h.Pixels) != 2*tc.want || len(h.Labels) != tc.want {
			t.Errorf("Head(%d): N=%d, %d pixels, %d labels; want %d", tc.n, h.N, len(h.Pixels), len(h.Labels), tc.want)
		}
		if got := indices(h); !slices.Equal(got, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}[:tc.want]) {
			t.Errorf("Head(%d) = %v", tc.n, got)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Subset accepted index 10 of 10")
		}
	}()
	im.Subset([]int{10})
}

// splitIndices reads back the example indices indexed() encoded, through a Split.
func splitIndices(s Split) []int {
	n := s.Len()
	x := make([]float32, 2*n)
	y := make([]int32, n)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	s.Fill(x, y, idx)
	out := make([]int, n)
	for i := range out {
		out[i] = int(math.Round(float64(x[2*i])*255)) + 256*int(math.Round(float64(x[2*i+1])*255))
		if int(y[i]) != out[i]%10 {
			panic("label does not follow its example")
		}
	}
	return out
}

func TestHoldout(t *testing.T) {
	im := indexed(1000)
	tr, val, err := Holdout(im, 100, 42)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Len() != 900 || val.Len() != 100 {
		t.Fatalf("sizes %d+%d, want 900+100", tr.Len(), val.Len())
	}
	seen := make([]bool, im.N)
	for _, part := range []Split{tr, val} {
		idx := splitIndices(part)
		if !slices.IsSorted(idx) {
			t.Error("a part is not in the original order")
		}
		for _, i := range idx {
			if seen[i] {
				t.Fatalf("example %d in both parts", i)
			}
			seen[i] = true
		}
	}
	if slices.Contains(seen, false) {
		t.Fatal("an example is in neither part")
	}
	_, val2, _ := Holdout(im, 100, 42)
	if !slices.Equal(splitIndices(val), splitIndices(val2)) {
		t.Error("same seed, different split")
	}
	_, val3, _ := Holdout(im, 100, 43)
	if slices.Equal(splitIndices(val), splitIndices(val3)) {
		t.Error("different seeds, same split")
	}
	// The validation set is a random sample, not a block.
	if idx := splitIndices(val); idx[len(idx)-1]-idx[0] < 500 {
		t.Errorf("validation indices span only %d..%d", idx[0], idx[len(idx)-1])
	}
	if tr, val, err := Holdout(im, 0, 1); tr != Split(im) || val != nil || err != nil {
		t.Errorf("nVal=0: got %v, %v, %v", tr, val, err)
	}
	for _, bad := range []int{-1, 1000, 2000} {
		if _, _, err := Holdout(im, bad, 1); err == nil {
			t.Errorf("nVal=%d accepted", bad)
		}
	}
}

func TestFloat32(t *testing.T) {
	im := &Images{N: 2, Height: 1, Width: 3, Pixels: []uint8{0, 255, 51, 102, 1, 254}, Labels: []uint8{0, 1}}
	dst := make([]float32, 9)
	im.Float32(dst, []int{1, 0, 1})
	want := []float32{0.4, 1.0 / 255, 254.0 / 255, 0, 1, 0.2, 0.4, 1.0 / 255, 254.0 / 255}
	for i := range want {
		if math.Abs(float64(dst[i]-want[i])) > 1e-7 {
			t.Fatalf("dst = %v, want %v", dst, want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Float32 accepted a dst of the wrong length")
		}
	}()
	im.Float32(dst[:8], []int{1, 0, 1})
}

// TestBinarizedStatistics checks on the real test set that a dynamic
// binarization keeps the mean grey level, follows pixel/255 per level, is
// resampled each call and reproducible from its seed.
func TestBinarizedStatistics(t *testing.T) {
	im := realTest(t).Head(5000)
	all := make([]int, im.N)
	for i := range all {
		all[i] = i
	}
	grey := make([]float32, len(im.Pixels))
	im.Float32(grey, all)
	var meanGrey float64
	for _, g := range grey {
		meanGrey += float64(g)
	}
	meanGrey /= float64(len(grey))

	bin := make([]float32, len(im.Pixels))
	im.Binarized(bin, all, NewRand(1, "binarize", 0))
	var ones [256]float64
	var count [256]float64
	var mean float64
	for j, b := range bin {
		if b != 0 && b != 1 {
			t.Fatalf("binarized value %v", b)
		}
		mean += float64(b)
		ones[im.Pixels[j]] += float64(b)
		count[im.Pixels[j]]++
	}
	mean /= float64(len(bin))
	// The standard error of the mean is about 1.6e-4 here.
	if math.Abs(mean-meanGrey) > 1e-3 {
		t.Errorf("mean binarized %.5f, mean grey %.5f", mean, meanGrey)
	}
	if ones[0] != 0 || ones[255] != count[255] {
		t.Errorf("pixels 0 gave %v ones, pixels 255 gave %v of %v", ones[0], ones[255], count[255])
	}
	for p := 1; p < 255; p++ {
		if count[p] < 2000 {
			continue
		}
		q := float64(p) / 255
		if sd := math.Sqrt(q * (1 - q) / count[p]); math.Abs(ones[p]/count[p]-q) > 5*sd {
			t.Errorf("level %d: frequency of 1 is %.4f, want %.4f ± %.4f", p, ones[p]/count[p], q, 5*sd)
		}
	}

	again := make([]float32, len(bin))
	im.Binarized(again, all, NewRand(1, "binarize", 0))
	if !slices.Equal(bin, again) {
		t.Error("same rng seed, different binarization")
	}
	im.Binarized(again, all, NewRand(1, "binarize", 1))
	if slices.Equal(bin, again) {
		t.Error("next epoch's binarization is identical")
	}
}

func TestStaticBinarized(t *testing.T) {
	im := realTest(t).Head(2000)
	fill := func(s Split, idx []int) []float32 {
		x := make([]float32, len(idx)*im.Dim())
		s.Fill(x, make([]int32, len(idx)), idx)
		return x
	}
	all := make([]int, im.N)
	for i := range all {
		all[i] = i
	}
	a, c := fill(StaticBinarized(im, 7), all), fill(StaticBinarized(im, 8), all)
	if !slices.Equal(a, fill(StaticBinarized(im, 7), all)) {
		t.Error("same seed, different static binarization")
	}
	if slices.Equal(a, c) {
		t.Error("different seeds, same static binarization")
	}
	// An example's draw does not depend on the batch it is in.
	if one := fill(StaticBinarized(im, 7), []int{1234}); !slices.Equal(one, a[1234*im.Dim():1235*im.Dim()]) {
		t.Error("example 1234 binarized differently alone and in a batch")
	}
	var on, grey float64
	for j, p := range a {
		if p != 0 && p != 1 {
			t.Fatalf("value %v", p)
		}
		on += float64(p)
		grey += float64(im.Pixels[j]) / 255
	}
	n := float64(len(a))
	if math.Abs(on/n-grey/n) > 2e-3 {
		t.Errorf("mean %.5f, mean grey %.5f", on/n, grey/n)
	}
}
