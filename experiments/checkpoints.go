package experiments

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

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
