//go:build !unix

package sweep

import (
	"os"
	"os/exec"
)

// ownGroup does nothing where process groups do not exist.
func ownGroup(*exec.Cmd) {}

// interrupt kills the worker where it cannot be signalled: its trial then
// continues from its last checkpoint.
func interrupt(p *os.Process) { _ = p.Kill() }
