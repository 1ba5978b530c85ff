package experiments

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/checkpoint"
)

// dropIncompleteCheckpoints removes checkpoints a killed process left half
// written, so that a resume loads the last complete one instead of failing.
// GoMLX's Save creates the .json first, writes and closes the .bin, then
// fills the .json: a .json that is not complete JSON, or a .bin without its
// .json, marks an interrupted save.
func dropIncompleteCheckpoints(dir string) (dropped []string, err error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, e := range entries {
		have[e.Name()] = true
	}
	remove := func(base string) error {
		for _, suffix := range []string{checkpoint.JsonNameSuffix, checkpoint.BinDataSuffix} {
			if err := os.Remove(filepath.Join(dir, base+suffix)); err != nil && !os.IsNotExist(err) {
				return err
			}
		}
		dropped = append(dropped, base)
		return nil
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasPrefix(name, "checkpoint-") {
			continue
		}
		switch {
		case strings.HasSuffix(name, checkpoint.JsonNameSuffix):
			raw, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				return dropped, err
			}
			base := strings.TrimSuffix(name, checkpoint.JsonNameSuffix)
			if !json.Valid(raw) || !have[base+checkpoint.BinDataSuffix] {
				if err := remove(base); err != nil {
					return dropped, err
				}
			}
		case strings.HasSuffix(name, checkpoint.BinDataSuffix):
			base := strings.TrimSuffix(name, checkpoint.BinDataSuffix)
			if !have[base+checkpoint.JsonNameSuffix] {
				if err := remove(base); err != nil {
					return dropped, err
				}
			}
		}
	}
	return dropped, nil
}

// saveCheckpoint saves a checkpoint into dir. GoMLX's Save is not atomic: a
// failure (a full disk) leaves a partial .bin and an empty .json behind,
// which keep the disk full and which a resume would trip over. Every
// checkpoint file the failed save created is therefore truncated (which
// frees its space even while GoMLX still holds it open) and removed, so
// that the run's status and metrics can still be written.
func saveCheckpoint(ckpt *checkpoint.Handler, dir string) error {
	before := map[string]bool{}
	if entries, err := os.ReadDir(dir); err == nil {
		for _, e := range entries {
			before[e.Name()] = true
		}
	}
	err := ckpt.Save()
	if err == nil {
		return nil
	}
	entries, _ := os.ReadDir(dir)
	var removed []string
	for _, e := range entries {
		if name := e.Name(); !before[name] && strings.HasPrefix(name, "checkpoint-") {
			path := filepath.Join(dir, name)
			_ = os.Truncate(path, 0)
			if os.Remove(path) == nil {
				removed = append(removed, name)
			}
		}
	}
	if len(removed) > 0 {
		return fmt.Errorf("%w (removed the partial checkpoint files %s)", err, strings.Join(removed, ", "))
	}
	return err
}

// damagedDir is the sub-folder of a run's checkpoint folder that holds the
// checkpoints that could not be loaded, kept for inspection.
const damagedDir = "damaged"

// openCheckpoints builds the checkpoint handler of store over dir (keeping
// keep checkpoints; 0: GoMLX's default) and loads the newest checkpoint that
// loads. A checkpoint that does not load (its .json complete but its .bin
// damaged: a crash or a full disk at the wrong moment, a bad disk) is moved
// into dir/damaged and the one before it is tried, so that a run resumes
// from its last good state rather than failing. moved lists the checkpoints
// moved aside; the caller logs them.
func openCheckpoints(store *model.Store, dir string, keep int) (h *checkpoint.Handler, moved []string, err error) {
	for {
		// Probe with a scratch store: a failed load must not leave the
		// run's store attached to a handler.
		_, perr := checkpoint.Build(model.NewStore()).Dir(dir).Done()
		if perr == nil {
			break
		}
		names, lerr := checkpointNames(dir)
		if lerr != nil || len(names) == 0 {
			return nil, moved, perr
		}
		newest := names[len(names)-1]
		if err := moveAside(dir, newest); err != nil {
			return nil, moved, fmt.Errorf("%w; moving it aside failed too: %v", perr, err)
		}
		moved = append(moved, fmt.Sprintf("%s (%v)", newest, perr))
	}
	cfg := checkpoint.Build(store).Dir(dir)
	if keep > 0 {
		cfg = cfg.Keep(keep)
	}
	h, err = cfg.Done()
	return h, moved, err
}

// checkpointNames lists the checkpoints in dir, oldest first, as GoMLX does:
// the base names of the checkpoint-*.json files, sorted.
func checkpointNames(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if n := e.Name(); !e.IsDir() && strings.HasPrefix(n, "checkpoint-") && strings.HasSuffix(n, checkpoint.JsonNameSuffix) {
			names = append(names, strings.TrimSuffix(n, checkpoint.JsonNameSuffix))
		}
	}
	sort.Strings(names)
	return names, nil
}

// moveAside moves one checkpoint's files into dir/damaged.
func moveAside(dir, base string) error {
	to := filepath.Join(dir, damagedDir)
	if err := os.MkdirAll(to, 0o755); err != nil {
		return err
	}
	for _, suffix := range []string{checkpoint.JsonNameSuffix, checkpoint.BinDataSuffix} {
		err := os.Rename(filepath.Join(dir, base+suffix), filepath.Join(to, base+suffix))
		if err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}
