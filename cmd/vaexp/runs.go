package main

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vaexp/vaexp/tracker"
)

// listMetrics are the final metrics `runs list` shows, in order of preference.
var listMetrics = []string{"test/nelbo", "test/loss", "val/nelbo", "val/loss", "train/loss"}

// defaultListLimit keeps `runs list` instant on a database of many
// thousands of runs; --limit 0 lists them all.
const defaultListLimit = 50

// queryFlags select and shape runs: shared by list and export.
type queryFlags struct {
	filter, order, columns string
}

func (q *queryFlags) register(fs *pflag.FlagSet) {
	fs.StringVarP(&q.filter, "filter", "f", "", "only runs matching `EXPR`, e.g. \"params.beta IN (1, 4) AND status = 'finished'\" (see tracker/SCHEMA.md)")
	fs.StringVar(&q.order, "order-by", "", "sort by `FIELDS`, e.g. 'metrics.test/nelbo asc, params.beta desc' (default newest first)")
	fs.StringVar(&q.columns, "columns", "", "comma-separated `FIELDS` to show, e.g. id,name,status,params.beta,metrics.test/nelbo")
}

// query builds the query the flags describe, and the columns they name
// (nil: the command's default). A bad expression is a *tracker.FilterError.
func (q *queryFlags) query(db *tracker.DB) (*tracker.Query, []tracker.Field, error) {
	query := db.Runs().Where(q.filter).OrderBy(q.order)
	if err := query.Err(); err != nil {
		return nil, nil, err
	}
	var cols []tracker.Field
	if strings.TrimSpace(q.columns) != "" {
		var err error
		if cols, err = tracker.ParseFields(q.columns); err != nil {
			return nil, nil, err
		}
	}
	return query, cols, nil
}

// listFormats are the formats of `runs list --format`.
var listFormats = []string{"table", "csv", "json"}

func newRunsListCmd(a *app) *cobra.Command {
	var q queryFlags
	var format string
	var limit int
	c := &cobra.Command{
		Use:   "list",
		Short: "List runs: filter, order, choose columns; as a table, CSV or JSON",
		Long: "list shows the runs of the database, newest first, at most --limit of them. A run\n" +
			"whose process died without finishing is marked killed first.\n\n" +
			"Without --columns the table shows id, name, model, status, start, duration, steps\n" +
			"and the headline final metric; CSV and JSON hold every attribute, param, final\n" +
			"metric and tag (as `runs export` does).",
		Example: "  vaexp runs list --filter \"params.beta IN (1, 4) OR tags.note = 'keep'\"\n" +
			"  vaexp runs list --order-by 'metrics.test/nelbo asc' --limit 5 --columns id,name,params.beta,metrics.test/nelbo\n" +
			"  vaexp runs list --format json --limit 0",
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if !slices.Contains(listFormats, format) {
				return usagef("--format %q: use one of %s", format, strings.Join(listFormats, ", "))
			}
			if limit < 0 {
				return usagef("--limit %d: use a positive number of runs, or 0 for all", limit)
			}
			return a.runsList(c, q, format, limit)
		},
	}
	fl := c.Flags()
	fl.SortFlags = false
	q.register(fl)
	fl.IntVarP(&limit, "limit", "n", defaultListLimit, "show at most `N` runs (0: all)")
	fl.StringVar(&format, "format", "table", "output `FORMAT`: "+strings.Join(listFormats, ", "))
	return c
}

func (a *app) runsList(c *cobra.Command, qf queryFlags, format string, limit int) error {
	db, err := a.openDBFresh()
	if err != nil {
		return err
	}
	defer db.Close()
	q, cols, err := qf.query(db)
	if err != nil {
		return err
	}
	paged := q.Limit(limit)
	w := c.OutOrStdout()
	if format != "table" {
		// Buffered, so that a failure leaves stdout empty.
		var buf bytes.Buffer
		if err := paged.Export(&buf, format, cols...); err != nil {
			return err
		}
		if _, err := w.Write(buf.Bytes()); err != nil {
			return err
		}
		// The note goes to stderr: stdout is data for another program.
		return noteLimit(c.ErrOrStderr(), q, limit, -1)
	}
	if cols != nil {
		paged = paged.Fields(cols...)
	}
	rows, err := paged.All()
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		if strings.TrimSpace(qf.filter) != "" {
			fmt.Fprintf(w, "no runs match --filter %q\n", qf.filter)
		} else {
			fmt.Fprintf(w, "no runs in %s yet; start one with `vaexp train`\n", db.Path())
		}
		return nil
	}
	if cols == nil {
		err = listTable(w, rows)
	} else {
		err = columnsTable(w, rows, cols)
	}
	if err != nil {
		return err
	}
	return noteLimit(w, q, limit, len(rows))
}

// noteLimit says how many runs --limit left out, if any. shown is the
// number of runs listed, -1 when unknown.
func noteLimit(w io.Writer, q *tracker.Query, limit, shown int) error {
	if limit == 0 || (shown >= 0 && shown < limit) {
		return nil
	}
	total, err := q.Count()
	if err != nil {
		return err
	}
	if total > limit {
		fmt.Fprintf(w, "(%d of %d runs; --limit 0 lists all)\n", limit, total)
	}
	return nil
}

// listTable is the default table of `runs list`.
func listTable(w io.Writer, rows []tracker.RunRow) error {
	t := newTable(w)
	t.row("ID", "NAME", "MODEL", "STATUS", "STARTED", "DURATION", "STEPS", "FINAL")
	for _, r := range rows {
		latest := make([]tracker.LatestMetric, 0, len(r.Metrics))
		for _, m := range r.Metrics {
			latest = append(latest, m)
		}
		t.row(r.ID, orDash(r.Name), orDash(r.Family), r.Status, formatTime(r.StartedAt),
			formatDuration(runDuration(r.Run)), trainSteps(latest), finalMetric(latest))
	}
	return t.flush()
}

// columnsTable is the table of `runs list --columns`, headed by the fields
// as they are written in a filter.
func columnsTable(w io.Writer, rows []tracker.RunRow, cols []tracker.Field) error {
	t := newTable(w)
	cells := make([]any, len(cols))
	for i, col := range cols {
		cells[i] = col.String()
	}
	t.row(cells...)
	for _, r := range rows {
		for i, col := range cols {
			cells[i] = cellText(col.Value(r))
		}
		t.row(cells...)
	}
	return t.flush()
}

// cellText prints a field value in a table cell: metrics with six
// significant digits, times local, "-" for a missing or empty value.
func cellText(v any, ok bool) string {
	if !ok {
		return "-"
	}
	var s string
	switch x := v.(type) {
	case nil:
		return "-"
	case float64:
		return formatValue(x)
	case time.Time:
		return formatTime(x)
	case string:
		s = x
	default:
		s = fmt.Sprint(x)
	}
	s = strings.Join(strings.Fields(s), " ") // a tab or newline would break the columns
	return orDash(clipText(s, maxCell))
}

// maxCell is the widest a text cell gets in a table.
const maxCell = 48

// trainSteps is the highest training step a run recorded.
func trainSteps(latest []tracker.LatestMetric) int64 {
	var n int64
	for _, m := range latest {
		if strings.HasPrefix(m.Key, "train/") {
			n = max(n, m.Step)
		}
	}
	return n
}

// finalMetric names the run's headline number: the first of listMetrics it has.
func finalMetric(latest []tracker.LatestMetric) string {
	for _, key := range listMetrics {
		for _, m := range latest {
			if m.Key == key {
				return key + " " + formatValue(m.Value)
			}
		}
	}
	return "-"
}

func newRunsShowCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "show RUN_ID",
		Short:   "Show a run: attributes, parameters, tags, final metrics, artifacts",
		Example: "  vaexp runs show 3\n  vaexp runs show last",
		Args:    runIDArgs,
		RunE:    func(c *cobra.Command, args []string) error { return a.runsShow(c, args[0]) },
	}
}

func (a *app) runsShow(c *cobra.Command, arg string) error {
	db, r, err := a.openRun(arg)
	if err != nil {
		return err
	}
	defer db.Close()
	params, err := db.Params(r.ID)
	if err != nil {
		return err
	}
	tags, err := db.Tags(r.ID)
	if err != nil {
		return err
	}
	latest, err := db.LatestMetrics(r.ID)
	if err != nil {
		return err
	}
	arts, err := db.Artifacts(r.ID)
	if err != nil {
		return err
	}

	w := c.OutOrStdout()
	t := newTable(w)
	t.row("id", r.ID)
	t.row("name", orDash(r.Name))
	t.row("experiment", orDash(r.Experiment))
	t.row("model", orDash(r.Family))
	t.row("status", r.Status)
	if r.Error != "" {
		t.row("error", r.Error)
	}
	t.row("started", formatTime(r.StartedAt))
	t.row("ended", formatTime(r.EndedAt))
	t.row("duration", formatDuration(runDuration(r)))
	t.row("steps", trainSteps(latest))
	t.row("seed", r.Seed)
	t.row("backend", orDash(r.Backend))
	t.row("host", fmt.Sprintf("%s (pid %d)", orDash(r.Host), r.PID))
	t.row("git commit", orDash(r.GitCommit))
	t.row("folder", orDash(r.RunDir))
	t.row("command", orDash(r.Command))
	if err := t.flush(); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nparams")
	t = newTable(w)
	for _, p := range params {
		t.row("  "+p.Key, p.Value)
	}
	if err := t.flush(); err != nil {
		return err
	}

	if len(tags) > 0 {
		fmt.Fprintln(w, "\ntags")
		keys := make([]string, 0, len(tags))
		for k := range tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		t = newTable(w)
		for _, k := range keys {
			t.row("  "+k, tags[k])
		}
		if err := t.flush(); err != nil {
			return err
		}
	}

	fmt.Fprintln(w, "\nmetrics")
	t = newTable(w)
	t.row("  KEY", "STEP", "VALUE", "MIN", "MAX")
	for _, m := range latest {
		t.row("  "+m.Key, m.Step, formatValue(m.Value), formatValue(m.Min), formatValue(m.Max))
	}
	if err := t.flush(); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nartifacts")
	t = newTable(w)
	t.row("  NAME", "STEP", "TYPE", "SIZE")
	for _, art := range arts {
		t.row("  "+art.Name, art.Step, art.MIME, formatSize(art.Size))
	}
	return t.flush()
}
