#include "textflag.h"

// ADD10 is ten dependent one-cycle additions to AX.
#define ADD10 ADDQ $1, AX; ADDQ $1, AX; ADDQ $1, AX; ADDQ $1, AX; ADDQ $1, AX; ADDQ $1, AX; ADDQ $1, AX; ADDQ $1, AX; ADDQ $1, AX; ADDQ $1, AX

// func addChain(n int) int
// n iterations of 100 dependent one-cycle ADDs (see clockHz).
TEXT ·addChain(SB), NOSPLIT, $0-16
	MOVQ n+0(FP), CX
	XORQ AX, AX
loop:
	ADD10
	ADD10
	ADD10
	ADD10
	ADD10
	ADD10
	ADD10
	ADD10
	ADD10
	ADD10
	DECQ CX
	JNZ loop
	MOVQ AX, ret+8(FP)
	RET
