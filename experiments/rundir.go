package experiments

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/vaexp/vaexp/tracker"
)

// maxRunDirSuffix bounds the search for a free run folder name (<id>-2,
// <id>-3, …): more leftovers than this under one id means something else is
// wrong, and the search must end with an error rather than spin.
const maxRunDirSuffix = 1000

// CheckOutDir checks that out, the folder that holds one folder per run, is
// a writable directory or can be created as one, without creating it. [Run]
// calls it before anything is recorded; the CLI calls it before it creates
// a database, so a bad --out leaves nothing behind. A path that names a
// file or is too long is a *SpecError (the caller gave a bad value); other
// failures (permissions, a full or read-only disk) are plain errors.
func CheckOutDir(out string) error {
	if out == "" {
		out = "runs"
	}
	// The nearest part of the path that exists must be a folder we can
	// write into; the rest is created with the run's folder.
	dir := filepath.Clean(out)
	for {
		fi, err := os.Stat(dir)
		if err == nil {
			if !fi.IsDir() {
				return outDirError(out, syscall.ENOTDIR)
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return outDirError(out, err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	// Writable? A probe file, removed at once: the permission bits do not
	// tell (root, read-only mounts, full disks).
	f, err := os.CreateTemp(dir, ".vaexp-probe-*")
	if err != nil {
		return outDirError(out, err)
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("runs folder %q: %w", out, err)
	}
	return nil
}

// outDirError names the folder, the cause and the fix for a runs folder
// that cannot be used.
func outDirError(out string, err error) error {
	switch {
	case errors.Is(err, syscall.ENOTDIR) || errors.Is(err, fs.ErrExist):
		return &SpecError{Err: fmt.Errorf("runs folder --out %q: %s is a file, not a folder; point --out at a folder (default runs)", out, fileInPath(out))}
	case errors.Is(err, syscall.ENAMETOOLONG):
		return &SpecError{Err: fmt.Errorf("runs folder --out %q: the path is too long for the file system; choose a shorter --out", out)}
	case errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS):
		return fmt.Errorf("runs folder --out %q is not writable (%v); choose a folder you can write to with --out", out, unwrapPath(err))
	case errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT):
		return fmt.Errorf("runs folder --out %q: the disk is full (%v); free space or choose another --out", out, unwrapPath(err))
	}
	return fmt.Errorf("runs folder --out %q: %v; choose another --out", out, unwrapPath(err))
}

// fileInPath is the part of path that exists but is not a directory, for
// messages ("runs/x is a file").
func fileInPath(path string) string {
	for p := filepath.Clean(path); ; p = filepath.Dir(p) {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
		if parent := filepath.Dir(p); parent == p {
			return path
		}
	}
}

// unwrapPath drops the *fs.PathError wrapper, whose path the message names already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// makeRunDir creates the folder of a new run: <out>/<id>, or <out>/<id>-2,
// -3, … when a folder of that name is left from another database, so that a
// new run never picks up (or overwrites) another run's checkpoints. The
// folder is created exclusively (os.Mkdir), so two processes never share
// one; any error but "exists" stops at once, naming the path.
func makeRunDir(out string, id int64) (string, error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", outDirError(out, err)
	}
	// Recorded absolute, so that the run can be resumed and sampled from
	// any working directory.
	if abs, err := filepath.Abs(out); err == nil {
		out = abs
	}
	for n := 1; n <= maxRunDirSuffix; n++ {
		dir := filepath.Join(out, fmt.Sprint(id))
		if n > 1 {
			dir = filepath.Join(out, fmt.Sprintf("%d-%d", id, n))
		}
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("create run folder %q: %w", dir, outDirError(out, err))
		}
	}
	return "", fmt.Errorf("create run folder for run %d: %s/%d to %s/%d-%d all exist; move old run folders out of %q or choose another --out",
		id, out, id, out, id, maxRunDirSuffix, out)
}

// runFolder returns the folder of a recorded run. New runs record an
// absolute path; older ones recorded the path as given ("runs/3"), relative
// to the working directory of the command that started them, which is
// usually the database's folder: a relative path that does not exist here is
// looked for there, so a run can be resumed or sampled from anywhere.
func runFolder(db *tracker.DB, run tracker.Run) (string, error) {
	if run.RunDir == "" {
		return "", fmt.Errorf("run %d has no folder recorded (it failed before training started): start a new run instead", run.ID)
	}
	dir := run.RunDir
	if !filepath.IsAbs(dir) {
		if _, err := os.Stat(dir); err != nil {
			if alt := filepath.Join(filepath.Dir(db.Path()), dir); alt != dir {
				if _, err := os.Stat(alt); err == nil {
					dir = alt
				}
			}
		}
	}
	return dir, nil
}

// loadRunSpec reads the spec a recorded run was started with, from its
// folder. A missing or broken file is a failure of that run's folder, not
// of the command line: the error is never a *SpecError.
func loadRunSpec(dir string, id int64) (Spec, error) {
	path := filepath.Join(dir, "spec.yaml")
	raw, err := os.ReadFile(path)
	if err != nil {
		return Spec{}, fmt.Errorf("run %d: its spec %s cannot be read (%v): was its folder moved or deleted?", id, path, unwrapPath(err))
	}
	spec, err := ParseSpec(path, raw)
	if err != nil {
		return Spec{}, fmt.Errorf("run %d: its spec %s was edited and no longer parses: %s", id, path, err.Error())
	}
	return spec, nil
}

// finishError says what a failed Recorder.Finish (typically a full disk)
// left in the tracker, read back from it (reading works on a full disk):
// either the final status is recorded and only the last metric rows are
// lost, or the run is still 'running' under this process's pid, and the
// next listing once there is space again marks it killed.
func finishError(db *tracker.DB, id int64, status string, ferr error) error {
	if run, err := db.Run(id); err == nil && run.Status == status {
		return fmt.Errorf("run %d is recorded %s, but its last metric rows could not be written: %w", id, status, ferr)
	}
	return fmt.Errorf("the status %s of run %d could not be recorded (%w); once there is space again, `vaexp runs list` shows it as killed", status, id, ferr)
}
