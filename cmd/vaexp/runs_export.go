package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// exportFormats are the formats `runs export` writes, named as the
// extensions that choose them.
var exportFormats = []string{"csv", "json"}

func newRunsExportCmd(a *app) *cobra.Command {
	var q queryFlags
	var format, out string
	c := &cobra.Command{
		Use:   "export --out FILE.csv|FILE.json|-",
		Short: "Export runs with their params, final metrics and tags as CSV or JSON",
		Long: "export writes every run matching --filter (all of them by default), one record per\n" +
			"run, for pandas, R or a spreadsheet: every attribute, param, final metric and tag,\n" +
			"or the --columns given. The format follows the extension of --out, or --format;\n" +
			"--out - writes to stdout. A missing value is an empty CSV cell or a JSON null.",
		Example: "  vaexp runs export --filter \"sweep = 'beta'\" --out runs.csv\n" +
			"  vaexp runs export --columns id,params.beta,metrics.test/nelbo --format json --out -",
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if out == "" {
				return usagef("export needs --out FILE (.csv or .json), or --out - for stdout")
			}
			f, err := exportFormat(out, format)
			if err != nil {
				return err
			}
			return a.runsExport(c, q, f, out)
		},
	}
	fl := c.Flags()
	fl.SortFlags = false
	fl.StringVarP(&out, "out", "o", "", "`FILE` to write (.csv or .json), or - for stdout")
	fl.StringVar(&format, "format", "", "`FORMAT` csv or json (default: from the extension of --out; csv for -)")
	q.register(fl)
	return c
}

// exportFormat picks the format from --format and the extension of --out.
func exportFormat(out, flag string) (string, error) {
	ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(out)), ".")
	if flag != "" {
		if !slices.Contains(exportFormats, flag) {
			return "", usagef("--format %q: use csv or json", flag)
		}
		if out != "-" && slices.Contains(exportFormats, ext) && ext != flag {
			return "", usagef("--out %s is .%s but --format is %s: give one of them", out, ext, flag)
		}
		return flag, nil
	}
	switch {
	case out == "-":
		return "csv", nil
	case slices.Contains(exportFormats, ext):
		return ext, nil
	}
	return "", usagef("--out %q: cannot tell the format; end the name in .csv or .json, or give --format csv|json", out)
}

func (a *app) runsExport(c *cobra.Command, qf queryFlags, format, out string) error {
	db, err := a.openDBFresh()
	if err != nil {
		return err
	}
	defer db.Close()
	q, cols, err := qf.query(db)
	if err != nil {
		return err
	}
	if out == "-" {
		var buf bytes.Buffer // a failure leaves stdout empty
		if err := q.Export(&buf, format, cols...); err != nil {
			return err
		}
		_, err := c.OutOrStdout().Write(buf.Bytes())
		return err
	}
	err = writeFileAtomic(out, func(tmp string) error {
		f, err := os.Create(tmp)
		if err != nil {
			return fmt.Errorf("write %s: %w", out, err)
		}
		bw := bufio.NewWriter(f)
		if err := q.Export(bw, format, cols...); err != nil {
			f.Close()
			return err
		}
		if err := bw.Flush(); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", out, err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("write %s: %w", out, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	n, err := q.Count()
	if err != nil {
		return err
	}
	fmt.Fprintf(c.OutOrStdout(), "wrote %s (%s, %s)\n", out, plural(n, "run"), format)
	return nil
}
