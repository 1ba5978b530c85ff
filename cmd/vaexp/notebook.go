package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/spf13/cobra"
)

// newNotebookCmd groups the notebook set-up. The work is in
// notebooks/install.sh (a shell script, because it drives go install, apt and
// Jupyter's own tools); this command finds it in the checkout and runs it.
func newNotebookCmd() *cobra.Command {
	nb := &cobra.Command{Use: "notebook", Short: "Set up the GoNB Jupyter kernel for vaexp's notebooks"}
	var apt, rawError bool
	install := &cobra.Command{
		Use:   "install",
		Short: "Build GoNB, gopls and goimports and register the gonb kernel for this checkout (idempotent)",
		Long: "install builds GoNB from the version pinned in go.mod, installs gopls and goimports into\n" +
			"bin/notebook/, and registers the gonb kernel with the project's Go settings and a go.work\n" +
			"pointing at this checkout. Re-run it to repair a broken kernel. Run it inside the checkout.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			script, err := findUp("notebooks/install.sh")
			if err != nil {
				return err
			}
			var args []string
			if apt {
				args = append(args, "--apt")
			}
			if rawError {
				args = append(args, "--raw-error")
			}
			cmd := exec.CommandContext(c.Context(), script, args...)
			cmd.Stdout, cmd.Stderr, cmd.Stdin = c.OutOrStdout(), c.ErrOrStderr(), os.Stdin
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("%s: %w", script, err)
			}
			return nil
		},
	}
	install.Flags().BoolVar(&apt, "apt", false, "also apt-get Jupyter's Debian packages (needs root)")
	install.Flags().BoolVar(&rawError, "raw-error", false, "plain-text compile errors in cells (what CI uses)")
	nb.AddCommand(install)
	return nb
}

// findUp looks for rel in the current directory and its parents.
func findUp(rel string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%s not found here or above: run this inside the vaexp checkout", rel)
		}
		dir = parent
	}
}
