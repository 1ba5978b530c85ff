package tracker

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// fencedBlocks returns the bodies of the ```lang blocks in SCHEMA.md.
func fencedBlocks(t *testing.T, lang string) []string {
	t.Helper()
	doc, err := os.ReadFile("SCHEMA.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)```" + lang + "\n(.*?)```")
	var blocks []string
	for _, m := range re.FindAllStringSubmatch(string(doc), -1) {
		blocks = append(blocks, m[1])
	}
	if len(blocks) == 0 {
		t.Fatalf("SCHEMA.md has no %s examples", lang)
	}
	return blocks
}

// populatedDB writes a small finished run (id 1) to dir/vaexp.db and closes it.
func populatedDB(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "vaexp.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := db.StartRun(RunInfo{Family: "vae", Params: map[string]any{"lr": 0.001, "epochs": 3, "amsgrad": true, "opt": "adam"}})
	if err != nil {
		t.Fatal(err)
	}
	for s := range int64(3) {
		rec.LogMetrics(s, map[string]float64{"loss": 100 / float64(s+1), "kl": float64(s)})
	}
	rec.SetTag("note", "doc test")
	rec.LogArtifact("samples", 2, "image/png", []byte("\x89PNG"))
	if err := rec.Finish(StatusFinished, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSchemaDocSQLite runs every SQL example of SCHEMA.md through the real
// sqlite3 CLI, which also proves the file is readable by a plain client.
func TestSchemaDocSQLite(t *testing.T) {
	cli, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Skip("sqlite3 CLI not installed (apt-get install sqlite3)")
	}
	path := populatedDB(t, t.TempDir())
	for _, q := range fencedBlocks(t, "sql") {
		cmd := exec.Command(cli, "-readonly", "-bail", path)
		cmd.Stdin = strings.NewReader(q)
		out, err := cmd.CombinedOutput()
		if err != nil || strings.Contains(string(out), "Error") {
			t.Errorf("sqlite3 %q:\n%s\n%v", q, out, err)
		}
	}
	out, err := exec.Command(cli, "-readonly", path, "PRAGMA journal_mode; PRAGMA user_version; SELECT value FROM latest_metrics WHERE key = 'loss';").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(string(out)); len(got) != 3 || got[0] != "wal" || got[1] != strconv.Itoa(currentVersion()) || !strings.HasPrefix(got[2], "33.333") {
		t.Errorf("sqlite3 sees %q, want wal, version %d, loss 33.33", got, currentVersion())
	}
}

// TestSchemaDocPython runs the Python example of SCHEMA.md with python3.
func TestSchemaDocPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	dir := t.TempDir()
	populatedDB(t, dir)
	for _, src := range fencedBlocks(t, "python") {
		cmd := exec.Command(py, "-c", src)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("python example failed: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "'epochs': 3") || !strings.Contains(string(out), "'amsgrad': True") {
			t.Errorf("python output:\n%s", out)
		}
	}
}

// TestSchemaDocFilters parses every example of SCHEMA.md's filter language.
func TestSchemaDocFilters(t *testing.T) {
	for _, block := range fencedBlocks(t, "filter") {
		for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
			if _, err := ParseFilter(line); err != nil {
				t.Errorf("SCHEMA.md example %q: %v", line, err)
			}
		}
	}
}
