package notebooks

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ResultsEnv names the environment variable that overrides the folder of
// recorded results (default: bench/results of this checkout).
const ResultsEnv = "VAEXP_RESULTS"

// ResultsDir is the folder holding the figures the long runs recorded
// (bench/eval_table.sh, bench/disentangle.sh, bench/anomaly.sh write their
// CSV there; they are committed): $VAEXP_RESULTS, or bench/results beside the
// notebooks' folder.
func ResultsDir() string {
	if p := os.Getenv(ResultsEnv); p != "" {
		return p
	}
	return filepath.Join(dir(), "..", "bench", "results")
}

// Records are the rows of a CSV file with a header line, each row a map from
// column name to cell ("" for an empty cell).
type Records struct {
	// Path is the file read.
	Path string
	// Columns are the header's names, in order.
	Columns []string
	// Rows hold one map per data line.
	Rows []map[string]string
}

// ReadResults reads ResultsDir()/name (e.g. "anomaly-mnist.csv").
func ReadResults(name string) (Records, error) {
	return ReadCSV(filepath.Join(ResultsDir(), name))
}

// ReadCSV reads a CSV file whose first line names the columns (as `vaexp
// runs export` writes it).
func ReadCSV(path string) (Records, error) {
	f, err := os.Open(path)
	if err != nil {
		return Records{}, fmt.Errorf("results: %w (the long runs write it; see bench/README.md)", err)
	}
	defer f.Close()
	lines, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return Records{}, fmt.Errorf("results %s: %w", path, err)
	}
	if len(lines) == 0 {
		return Records{}, fmt.Errorf("results %s: empty (want a header line)", path)
	}
	r := Records{Path: path, Columns: lines[0]}
	for _, line := range lines[1:] {
		row := map[string]string{}
		for i, c := range r.Columns {
			if i < len(line) {
				row[c] = line[i]
			}
		}
		r.Rows = append(r.Rows, row)
	}
	return r, nil
}

// Cell returns a table cell for a value: an int64 or float64 when it parses
// as a number (so Table formats and compares it), nil when empty, else the text.
func Cell(v string) any {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	if i, err := strconv.ParseInt(v, 10, 64); err == nil {
		return i
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return f
	}
	return v
}

// Table returns a Table of the given columns of the records, each header
// shortened by trimming the prefixes "metrics.", "params.", "tags." and
// "eval/".
func (r Records) Table(caption string, columns ...string) Table {
	t := Table{Caption: caption}
	for _, c := range columns {
		h := c
		for _, p := range []string{"metrics.", "params.", "tags.", "eval/"} {
			h = strings.TrimPrefix(h, p)
		}
		t.Header = append(t.Header, h)
	}
	for _, row := range r.Rows {
		cells := make([]any, len(columns))
		for i, c := range columns {
			cells[i] = Cell(row[c])
		}
		t.AddRow(cells...)
	}
	return t
}
