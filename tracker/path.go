package tracker

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// PathError is Open's error for a database path that cannot be a tracker
// database: empty, a directory, inside a folder that does not exist, or a
// file that is not a SQLite database. The path, not the machine, is at
// fault: the CLI reports it as a usage error.
type PathError struct {
	Path string
	Err  error
}

func (e *PathError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *PathError) Unwrap() error { return e.Err }

// sqliteMagic starts every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// checkPath rejects paths SQLite could only fail on with a vaguer message,
// and files that are not SQLite databases: SQLite takes a short text file
// for an empty database, and Open would then write its schema over the
// user's file. Without create, a missing file is an error wrapping
// fs.ErrNotExist.
func checkPath(path string, create bool) error {
	bad := func(format string, args ...any) error {
		return &PathError{Path: path, Err: fmt.Errorf(format, args...)}
	}
	if path == "" {
		return bad("empty database path (set --db or %s)", EnvDB)
	}
	fi, err := os.Stat(path)
	if err == nil {
		if fi.IsDir() {
			return bad("is a directory (pass a file path such as %q with --db or %s)", filepath.Join(path, "vaexp.db"), EnvDB)
		}
		return checkMagic(path, bad)
	}
	if !create && errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no tracker database here: %w", fs.ErrNotExist)
	}
	dir := filepath.Dir(path)
	di, err := os.Stat(dir)
	switch {
	case err != nil:
		return bad("directory %q does not exist (create it, or set --db or %s)", dir, EnvDB)
	case !di.IsDir():
		return bad("%q is not a directory (set --db or %s to a path inside a directory)", dir, EnvDB)
	}
	return nil
}

// checkMagic refuses an existing file whose first bytes are not SQLite's.
// An empty file passes (a database being created), and so do zero bytes
// (SQLite writes its header in one page write).
func checkMagic(path string, bad func(string, ...any) error) error {
	f, err := os.Open(path)
	if err != nil {
		return nil // SQLite will say why it cannot open it
	}
	defer f.Close()
	head := make([]byte, len(sqliteMagic))
	n, err := io.ReadFull(f, head)
	if n == 0 || (err != nil && !errors.Is(err, io.ErrUnexpectedEOF)) {
		return nil
	}
	head = head[:n]
	if bytes.Equal(head, sqliteMagic[:n]) || len(bytes.Trim(head, "\x00")) == 0 {
		return nil
	}
	return bad("is not a database: not a SQLite file, so not a vaexp tracker (left untouched; choose another with --db or %s)", EnvDB)
}
