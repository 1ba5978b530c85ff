//go:build unix

package sweep

import (
	"os"
	"os/exec"
	"syscall"
)

// ownGroup starts a worker in a process group of its own, so that a
// Ctrl-C at the terminal reaches only the controller, which then stops each
// worker with exactly one SIGINT (a second one would make it quit without
// saving its checkpoint).
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// interrupt asks a worker process to stop after saving its checkpoint.
func interrupt(p *os.Process) { _ = p.Signal(os.Interrupt) }
