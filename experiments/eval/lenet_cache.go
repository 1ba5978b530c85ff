package eval

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gofrs/flock"
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/experiments/data"
)

// The classifier is trained once per machine and kept in vaexp's cache
// (data.CacheRoot()/classifier/, next to mnist/) as one file:
//
//	"VAEXPCLF" | u32 header length | header (JSON: version, recipe, steps,
//	test accuracy, tensor paths and shapes) | float32 weights, little-endian,
//	in header order | SHA-256 of everything before it
//
// rather than a GoMLX checkpoint directory (a .json and a .bin written one
// after the other), because one file can be replaced atomically: it is
// written to a temporary file in the same directory and renamed over the old
// one, so two processes training it at once on first use each rename a whole
// file, and a reader sees a whole file or none. It is never trusted blindly:
// a file with another version or recipe is stale, one whose checksum, magic
// or sizes do not match is damaged, and either is rebuilt.
const classifierMagic = "VAEXPCLF"

// checkpointInfo is the classifier file's header.
type checkpointInfo struct {
	Version      string       `json:"version"`
	Config       TrainConfig  `json:"config"`
	Steps        int          `json:"steps"`
	TestAccuracy float64      `json:"test_accuracy"`
	Tensors      []tensorInfo `json:"tensors"`
	// Sum is the hex SHA-256 of the file's content (not stored in the header).
	Sum string `json:"-"`
}

// tensorInfo names one variable of the network and its shape.
type tensorInfo struct {
	Path string `json:"path"`
	Dims []int  `json:"dims"`
}

func (t tensorInfo) size() int {
	n := 1
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// ClassifierOptions says where the classifier is cached and how it is built.
type ClassifierOptions struct {
	// CacheDir holds the classifier file; "" means data.CacheRoot()/classifier
	// (and no cache at all when caching is off: it is then trained on every load).
	CacheDir string
	// Config is the training recipe; the zero value means DefaultTrainConfig.
	Config TrainConfig
	// Progress, if set, is called after every training step when the
	// classifier has to be (re)built.
	Progress func(step, steps int)
}

// ClassifierFile is the path of the cached classifier for the given options,
// or "" when caching is off.
func ClassifierFile(opts ClassifierOptions) string {
	dir := opts.CacheDir
	if dir == "" {
		root := data.CacheRoot()
		if root == "" {
			return ""
		}
		dir = filepath.Join(root, "classifier")
	}
	return filepath.Join(dir, strings.ReplaceAll(ClassifierVersion, "/", "-")+".bin")
}

// LoadClassifier returns the MNIST classifier: the cached one when its file is
// intact and was trained with this version and recipe, else a new one trained
// now (about two and a half minutes on 2 cores with the default recipe) and cached.
// "how" says which: "cached", or why it was trained ("missing", "stale: …",
// "damaged: …", "no cache").
func LoadClassifier(backend compute.Backend, opts ClassifierOptions) (c *Classifier, how string, err error) {
	cfg := opts.Config.orDefault()
	if err := cfg.validate(); err != nil {
		return nil, "", err
	}
	path := ClassifierFile(opts)
	how = "no cache"
	if path != "" {
		c, err = readClassifier(backend, path, cfg)
		if err == nil {
			return c, "cached", nil
		}
		how = err.Error()
		// Two processes that find no classifier at once (two test packages,
		// two `vaexp eval`s) would both train it: the second waits on an
		// advisory lock and then finds the first one's file. The file is
		// renamed into place whole either way, so correctness does not rest
		// on the lock; where locking fails (a file system without locks),
		// each process trains its own.
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
			lock := flock.New(path + ".lock")
			if lock.Lock() == nil {
				defer lock.Unlock()
				if c, err := readClassifier(backend, path, cfg); err == nil {
					return c, "cached (built by another process)", nil
				}
			}
		}
	}
	c, err = trainClassifier(backend, cfg, opts.Progress)
	if err != nil {
		return nil, how, err
	}
	if path != "" {
		if err := writeClassifier(path, c); err != nil {
			return nil, how, fmt.Errorf("cache classifier in %s: %w; set %s to another directory or to \"off\"", path, err, data.CacheDirEnv)
		}
	}
	return c, how, nil
}

// errStale, errDamaged and errMissing explain why a cached classifier is not used.
var (
	errMissing = errors.New("missing")
	errStale   = errors.New("stale")
	errDamaged = errors.New("damaged")
)

// readClassifier loads and verifies the classifier file at path.
func readClassifier(backend compute.Backend, path string, cfg TrainConfig) (*Classifier, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errMissing
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errDamaged, err)
	}
	info, weights, err := decodeClassifier(raw)
	if err != nil {
		return nil, err
	}
	if info.Version != ClassifierVersion || info.Config != cfg {
		return nil, fmt.Errorf("%w: trained as %s with %+v, want %s with %+v", errStale, info.Version, info.Config, ClassifierVersion, cfg)
	}
	store := model.NewStore()
	for i, t := range info.Tensors {
		scope, name := model.SplitPath(t.Path)
		if !underScope(t.Path, "/"+lenetScope) {
			return nil, fmt.Errorf("%w: variable %q outside the classifier's scope", errDamaged, t.Path)
		}
		if _, err := store.Scope(scope).CreateVariable(name, tensors.FromFlatDataAndDimensions(weights[i], t.Dims...)); err != nil {
			return nil, fmt.Errorf("%w: %v", errDamaged, err)
		}
	}
	return &Classifier{backend: backend, store: store, info: info}, nil
}

// decodeClassifier checks a classifier file and splits it into its header and
// one weight slice per tensor.
func decodeClassifier(raw []byte) (checkpointInfo, [][]float32, error) {
	var info checkpointInfo
	const fixed = len(classifierMagic) + 4
	if len(raw) < fixed+sha256.Size || string(raw[:len(classifierMagic)]) != classifierMagic {
		return info, nil, fmt.Errorf("%w: not a classifier file", errDamaged)
	}
	body, sum := raw[:len(raw)-sha256.Size], raw[len(raw)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return info, nil, fmt.Errorf("%w: checksum mismatch", errDamaged)
	}
	hlen := int(binary.LittleEndian.Uint32(raw[len(classifierMagic):]))
	if hlen > len(body)-fixed {
		return info, nil, fmt.Errorf("%w: header length %d", errDamaged, hlen)
	}
	if err := json.Unmarshal(body[fixed:fixed+hlen], &info); err != nil {
		return info, nil, fmt.Errorf("%w: header: %v", errDamaged, err)
	}
	values := body[fixed+hlen:]
	total := 0
	for _, t := range info.Tensors {
		total += t.size()
	}
	if len(info.Tensors) == 0 || len(values) != 4*total {
		return info, nil, fmt.Errorf("%w: %d weight bytes for %d tensors of %d values", errDamaged, len(values), len(info.Tensors), total)
	}
	weights := make([][]float32, len(info.Tensors))
	off := 0
	for i, t := range info.Tensors {
		w := make([]float32, t.size())
		for j := range w {
			w[j] = math.Float32frombits(binary.LittleEndian.Uint32(values[off:]))
			off += 4
		}
		weights[i] = w
	}
	info.Sum = hex.EncodeToString(sum)
	return info, weights, nil
}

// encodeClassifier serializes c's header and weights; it sets c's checksum.
func encodeClassifier(c *Classifier) ([]byte, error) {
	hdr, err := json.Marshal(c.info)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteString(classifierMagic)
	buf.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(hdr))))
	buf.Write(hdr)
	for _, t := range c.info.Tensors {
		v := c.store.GetVariable(t.Path)
		if v == nil {
			return nil, fmt.Errorf("no variable %s", t.Path)
		}
		val, err := v.Value()
		if err != nil {
			return nil, err
		}
		if !slices.Equal(val.Shape().Dimensions, t.Dims) {
			return nil, fmt.Errorf("variable %s is %v, header says %v", t.Path, val.Shape().Dimensions, t.Dims)
		}
		for _, f := range tensors.MustCopyFlatData[float32](val) {
			buf.Write(binary.LittleEndian.AppendUint32(nil, math.Float32bits(f)))
		}
	}
	sum := sha256.Sum256(buf.Bytes())
	buf.Write(sum[:])
	c.info.Sum = hex.EncodeToString(sum[:])
	return buf.Bytes(), nil
}

// writeClassifier caches c at path atomically (temporary file + rename),
// synced first: a classifier costs minutes to rebuild, and a torn file would
// only be caught (and rebuilt) by its checksum.
func writeClassifier(path string, c *Classifier) error {
	raw, err := encodeClassifier(c)
	if err != nil {
		return err
	}
	return data.WriteFileAtomic(path, true, raw)
}
