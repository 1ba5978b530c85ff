package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/gomlx/compute"
	"github.com/spf13/cobra"

	"github.com/vaexp/vaexp/experiments"
	"github.com/vaexp/vaexp/experiments/simd"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the vaexp version, Go version, SIMD kernel path and compute backend",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			module, commit := "(unknown)", "(unknown: built without VCS stamping)"
			if bi, ok := debug.ReadBuildInfo(); ok {
				module = bi.Main.Path + " " + bi.Main.Version
				var rev, modified string
				for _, s := range bi.Settings {
					switch s.Key {
					case "vcs.revision":
						rev = s.Value
					case "vcs.modified":
						modified = s.Value
					}
				}
				if rev != "" {
					commit = rev
					if modified == "true" {
						commit += " (modified)"
					}
				}
			}
			backend := "go"
			if cfg := os.Getenv(compute.ConfigEnvVar); cfg != "" {
				backend = cfg
			}
			if b, err := experiments.NewBackend(); err != nil {
				backend += " (unavailable: " + err.Error() + ")"
			} else {
				backend = b.Name()
				b.Finalize()
			}
			t := newTable(c.OutOrStdout())
			t.row("vaexp", module)
			t.row("commit", commit)
			t.row("go", fmt.Sprintf("%s %s/%s", runtime.Version(), runtime.GOOS, runtime.GOARCH))
			t.row("simd", simd.Describe())
			t.row("backend", backend)
			return t.flush()
		},
	}
}
