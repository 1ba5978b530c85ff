package simd

import (
	"fmt"
	"os"
	"strings"
)

// init repairs a switch GoMLX cannot read. GoMLX's Go backend reads
// GOMLX_GO_SIMD_AVX512 and GOMLX_GO_SIMD_AVX2 while the program starts and
// panics, with a stack trace and no way for vaexp to catch it, on any value
// that is not a boolean ("maybe", "avx2"). Go initializes this package,
// which imports nothing of GoMLX's, before GoMLX's backend; so here such a
// value is reported in one line and removed, and the backend takes its
// default (the path the CPU supports).
func init() {
	for _, env := range []string{EnvAVX512, EnvAVX2} {
		v, set := os.LookupEnv(env)
		if !set || v == "" || validBool(v) {
			continue
		}
		fmt.Fprintf(os.Stderr, "vaexp: warning: %s=%q is not true or false; ignoring it (GoMLX uses the kernels the CPU has)\n", env, v)
		_ = os.Unsetenv(env)
	}
}

// GoMLX's spellings of true and false (its support/envutil), lower case.
var (
	trueSpellings  = map[string]bool{"1": true, "true": true, "t": true, "yes": true, "on": true, "enabled": true}
	falseSpellings = map[string]bool{"0": true, "false": true, "f": true, "no": true, "off": true, "disabled": true}
)

// validBool reports whether GoMLX reads v as a boolean.
func validBool(v string) bool {
	v = strings.ToLower(v)
	return trueSpellings[v] || falseSpellings[v]
}
