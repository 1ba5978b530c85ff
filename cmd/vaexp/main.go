// Command vaexp trains variational autoencoders and inspects the runs
// recorded in the tracker database.
//
//	vaexp train --model vae --epochs 10
//	vaexp runs list --filter "params.beta >= 4" --order-by "metrics.test/nelbo asc"
//	vaexp runs show last
//	vaexp runs compare 3 4 5 --out compare.png
//	vaexp runs group --by params.beta --metric metrics.test/nelbo
//	vaexp plot last --out curves.png
//	vaexp samples last --out samples.png
//	vaexp models vae
//
// It is thin on purpose: it parses flags into an experiments.Spec, calls the
// experiments, tracker and plots packages, and prints what they return.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vaexp/vaexp/experiments"
	"github.com/vaexp/vaexp/tracker"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes one command line and returns the process exit status: 0 on
// success, 1 when the command failed at run time, 2 when the command line
// itself is wrong (a usage error: flag, argument, value, spec file, filter,
// family or hyperparameter).
// stdin answers the questions of `runs delete`.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if w := experiments.SIMDWarning(); w != "" {
		fmt.Fprintln(stderr, w)
	}
	root := newRootCmd(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return 0
	}
	msg := strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
	fmt.Fprintf(stderr, "vaexp: %s\n", msg)
	// A filter, order-by, column or field expression is part of the command
	// line: its error is a usage error, and the expression is drawn under
	// the message with a caret at the column, the one exception to the
	// one-line rule.
	var fe *tracker.FilterError
	if errors.As(err, &fe) {
		for _, line := range strings.Split(fe.Caret(), "\n") {
			fmt.Fprintf(stderr, "  %s\n", line)
		}
		return 2
	}
	if isUsage(err) {
		return 2
	}
	return 1
}

// isUsage reports whether err is a mistake in the command line (exit status
// 2): a flag, argument or value the CLI refused, or a spec, family or
// hyperparameter the experiments refused before recording anything, or a
// --db path that cannot be a database.
func isUsage(err error) bool {
	var ue usageError
	var se *experiments.SpecError
	var pe *tracker.PathError
	return errors.As(err, &ue) || errors.As(err, &se) || errors.As(err, &pe)
}

// usageError marks a mistake in the command line itself (unknown command or
// flag, wrong number of arguments, unparsable value): exit status 2.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// app holds the global flags every command shares.
type app struct {
	dbPath string
	outDir string
	// command is the command line recorded with a training run.
	command string
	// stderr receives warnings that do not stop a command.
	stderr io.Writer
}

// newRootCmd builds the whole command tree for the command-line arguments
// args (without the program name), recorded with training runs as typed.
// Tests run it with their own arguments and output buffers.
func newRootCmd(args []string) *cobra.Command {
	a := &app{command: commandLine(append([]string{"vaexp"}, args...))}
	root := &cobra.Command{
		Use:   "vaexp",
		Short: "Train variational autoencoders and inspect their runs",
		Long: "vaexp trains the registered VAE families on MNIST, records every run in a SQLite\n" +
			"tracker database (see tracker/SCHEMA.md) and draws its curves and samples.",
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          groupArgs,
		RunE:          groupRun,
	}
	root.CompletionOptions.HiddenDefaultCmd = true
	root.PersistentPreRun = func(c *cobra.Command, _ []string) { a.stderr = c.ErrOrStderr() }
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see `%s --help`)", err, c.CommandPath())}
	})
	pf := root.PersistentFlags()
	pf.StringVar(&a.dbPath, "db", tracker.DefaultPath(), "tracker database `FILE` ($"+tracker.EnvDB+" sets the default)")
	pf.StringVar(&a.outDir, "out", "runs", "`DIR` holding one folder per training run (checkpoints, log, spec, images); plot, samples and runs compare, group, export take --out FILE instead")

	runs := &cobra.Command{
		Use:   "runs",
		Short: "Query, compare, group, export, tag and delete recorded runs",
		Long: "The runs commands read the tracker database. --filter, --order-by, --columns, --by\n" +
			"and --metric share one small language, described in tracker/SCHEMA.md (\"Filter\n" +
			"language\"): e.g. --filter \"params.beta IN (1, 4) AND status = 'finished'\".",
		Args: groupArgs,
		RunE: groupRun,
	}
	runs.AddCommand(newRunsListCmd(a), newRunsShowCmd(a), newRunsCompareCmd(a), newRunsGroupCmd(a),
		newRunsExportCmd(a), newRunsTagCmd(a), newRunsDeleteCmd(a))
	root.AddCommand(newTrainCmd(a), runs, newSweepCmd(a), newTrackerCmd(a), newPlotCmd(a), newSamplesCmd(a), newEvalCmd(a), newLatentCmd(a), newModelsCmd(), newDatasetsCmd(), newVersionCmd(), newNotebookCmd())
	root.SetArgs(args)
	return root
}

// groupArgs rejects an unknown sub-command of a command that only groups others.
func groupArgs(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	var names []string
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
		}
	}
	hint := ""
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		hint = fmt.Sprintf("did you mean %q? ", s[0])
	}
	return usagef("unknown command %q for %q: %suse one of %s", args[0], c.CommandPath(), hint, strings.Join(names, ", "))
}

// groupRun prints the help of a command that only groups others.
func groupRun(c *cobra.Command, _ []string) error { return c.Help() }

// commandLine renders argv as a shell would need it typed, for the record.
func commandLine(argv []string) string {
	parts := make([]string, len(argv))
	for i, s := range argv {
		if s == "" || strings.ContainsAny(s, " \t\n'\"\\$`*?;&|<>()") {
			s = "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
		parts[i] = s
	}
	return strings.Join(parts, " ")
}
