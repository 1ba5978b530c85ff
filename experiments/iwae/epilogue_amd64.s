#include "textflag.h"

// AVX-512 element-wise steps (see epilogue_amd64.go): the same arithmetic
// as expNeg, bernoulliLogLik and the tanh of activate in elementwise_simd.go,
// with the constants held in registers and no bounds checks.

// Constants: Z20 |x| mask, Z21 87, Z22 −log₂e, Z23 1.5·2^23, Z24 −ln2 (high
// part), Z25 ln2 (low part), Z26…Z30 1/720, 1/120, 1/24, 1/6, 1/2, Z31 1.
#define EXP_CONSTANTS \
	MOVL $0x7fffffff, AX; VPBROADCASTD AX, Z20; \
	MOVL $0x42ae0000, AX; VPBROADCASTD AX, Z21; \
	MOVL $0xbfb8aa3b, AX; VPBROADCASTD AX, Z22; \
	MOVL $0x4b400000, AX; VPBROADCASTD AX, Z23; \
	MOVL $0xbf318000, AX; VPBROADCASTD AX, Z24; \
	MOVL $0x395e8083, AX; VPBROADCASTD AX, Z25; \
	MOVL $0x3ab60b61, AX; VPBROADCASTD AX, Z26; \
	MOVL $0x3c088889, AX; VPBROADCASTD AX, Z27; \
	MOVL $0x3d2aaaab, AX; VPBROADCASTD AX, Z28; \
	MOVL $0x3e2aaaab, AX; VPBROADCASTD AX, Z29; \
	MOVL $0x3f000000, AX; VPBROADCASTD AX, Z30; \
	MOVL $0x3f800000, AX; VPBROADCASTD AX, Z31

// EXP_NEG(a, y, t): t = e^−a for a >= 0 in place of a (a is clamped to 87);
// y is a scratch register.
#define EXP_NEG(a, y, t) \
	VMINPS Z21, a, a; \
	VMULPS Z22, a, y; \
	VADDPS Z23, y, y; \
	VSUBPS Z23, y, t; \
	VFMSUB231PS Z24, t, a; \
	VFMADD231PS Z25, t, a; \
	VMOVAPS Z26, t; \
	VFMADD213PS Z27, a, t; \
	VFMADD213PS Z28, a, t; \
	VFMADD213PS Z29, a, t; \
	VFMADD213PS Z30, a, t; \
	VFMADD213PS Z31, a, t; \
	VFMADD213PS Z31, a, t; \
	VPSLLD $23, y, y; \
	VPADDD y, t, t

// func bernoulliBlockAVX512(l, xm *float32, n int, out *float32)
// Over n vectors of 16 (n >= 1): out[0:16] = Σ l·xm, out[16:32] = Σ |l|,
// out[32:48] = Π (1 + e^−|l|), lane by lane.
TEXT ·bernoulliBlockAVX512(SB), NOSPLIT, $0-32
	MOVQ l+0(FP), SI
	MOVQ xm+8(FP), DI
	MOVQ n+16(FP), CX
	MOVQ out+24(FP), DX
	EXP_CONSTANTS
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VMOVAPS Z31, Z2
bernoulliLoop:
	VMOVUPS (SI), Z3
	VFMADD231PS (DI), Z3, Z0
	VANDPS Z20, Z3, Z4
	VADDPS Z4, Z1, Z1
	EXP_NEG(Z4, Z6, Z9)
	VFMADD231PS Z9, Z2, Z2
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ bernoulliLoop
	VMOVUPS Z0, (DX)
	VMOVUPS Z1, 64(DX)
	VMOVUPS Z2, 128(DX)
	VZEROUPPER
	RET

// func tanhAVX512(x *float32, n int)
// x[0:16n] = tanh(x[0:16n]): (1 − e)/(1 + e) with e = e^−2|x|, x's sign.
TEXT ·tanhAVX512(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	EXP_CONSTANTS
tanhLoop:
	VMOVUPS (SI), Z3
	VANDPS Z20, Z3, Z4
	VADDPS Z4, Z4, Z4
	EXP_NEG(Z4, Z6, Z9)
	VSUBPS Z9, Z31, Z10
	VADDPS Z9, Z31, Z11
	VDIVPS Z11, Z10, Z10
	VANDNPS Z3, Z20, Z3
	VORPS Z3, Z10, Z10
	VMOVUPS Z10, (SI)
	ADDQ $64, SI
	DECQ CX
	JNZ tanhLoop
	VZEROUPPER
	RET
