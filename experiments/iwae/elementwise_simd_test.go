//go:build goexperiment.simd

package iwae

import (
	"math"
	"simd"
	"testing"
)

// TestVectorMath checks expNeg and logFloat32 against math.Exp and math.Log
// over their ranges, in relative error.
func TestVectorMath(t *testing.T) {
	buf := make([]float32, lanes)
	worstExp, worstLog := 0.0, 0.0
	for i := 0; i < 200000; i++ {
		a := float64(i) * 100 / 200000 // [0, 100)
		for j := range buf {
			buf[j] = float32(a + float64(j)*1e-5)
		}
		expNeg(simd.LoadFloat32s(buf)).Store(buf)
		want := math.Exp(-float64(float32(a)))
		if a < 87 {
			worstExp = max(worstExp, math.Abs(float64(buf[0])-want)/want)
		}
		x := math.Exp(float64(i)*80/200000 - 40) // [e^-40, e^40)
		for j := range buf {
			buf[j] = float32(x)
		}
		logFloat32(simd.LoadFloat32s(buf)).Store(buf)
		worstLog = max(worstLog, math.Abs(float64(buf[0])-math.Log(float64(float32(x))))/max(1, math.Abs(math.Log(x))))
	}
	if worstExp > 3e-7 || worstLog > 3e-7 {
		t.Errorf("worst relative error: expNeg %.2g, logFloat32 %.2g; want below 3e-7", worstExp, worstLog)
	}
	t.Logf("worst relative error: expNeg %.2g, logFloat32 %.2g", worstExp, worstLog)
}
