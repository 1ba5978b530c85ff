package experiments

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/experiments/data"
	"github.com/vaexp/vaexp/plots"
	"github.com/vaexp/vaexp/tracker"
	"github.com/vaexp/vaexp/vae"
)

// Trained is a run's model restored from its last checkpoint, for sampling,
// reconstruction, encoding and evaluation after training.
type Trained struct {
	RunID int64
	Dir   string
	Spec  Spec
	// Data describes the run's data set.
	Data    data.Description
	Model   vae.Model
	Store   *model.Store
	Backend compute.Backend
}

// Load restores run id's model from the checkpoint in its folder.
func Load(db *tracker.DB, id int64) (*Trained, error) {
	run, err := db.Run(id)
	if err != nil {
		return nil, err
	}
	dir, err := runFolder(db, run)
	if err != nil {
		return nil, err
	}
	spec, err := loadRunSpec(dir, id)
	if err != nil {
		return nil, err
	}
	cfg, err := spec.Validate()
	if err != nil {
		return nil, fmt.Errorf("run %d: its spec is not valid for this vaexp build: %s", id, err.Error())
	}
	desc, err := spec.Dataset()
	if err != nil {
		return nil, fmt.Errorf("run %d: %w", id, err)
	}
	backend, err := NewBackend()
	if err != nil {
		return nil, err
	}
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(spec.Seed); err != nil {
		return nil, err
	}
	ckptDir := filepath.Join(dir, "checkpoint")
	if _, err := dropIncompleteCheckpoints(ckptDir); err != nil {
		return nil, fmt.Errorf("run %d checkpoint: %w", id, err)
	}
	ckpt, _, err := openCheckpoints(store, ckptDir, 0)
	if err != nil {
		return nil, fmt.Errorf("run %d checkpoint: %w", id, err)
	}
	if ok, err := ckpt.HasCheckpoints(); err != nil || !ok {
		return nil, fmt.Errorf("run %d has no checkpoint in %s (it stopped before its first save)", id, ckptDir)
	}
	return &Trained{RunID: id, Dir: dir, Spec: spec, Data: desc, Model: cfg.Build(spec.DataInfo(desc)), Store: store, Backend: backend}, nil
}

// Generate draws n samples (pixel means), labels cycling 0, 1, ... for conditional families.
func (t *Trained) Generate(n int) ([][]float32, error) {
	var imgs [][]float32
	err := catch(func() (err error) {
		imgs, err = generate(t.Backend, t.Store, t.Model, n, t.Data.Classes)
		return err
	})
	return imgs, err
}

// SampleGrid draws n samples and returns them as a PNG grid with cols columns.
func (t *Trained) SampleGrid(n, cols int) ([]byte, error) {
	imgs, err := t.Generate(n)
	if err != nil {
		return nil, err
	}
	sh := t.Data.Shape
	img, err := plots.ImageGrid(imgs, sh.Height, sh.Width, cols, plots.GridOptions{Scale: 2})
	if err != nil {
		return nil, err
	}
	return plots.EncodePNG(img)
}

// DrawSamples draws n samples in the format of the file extension format,
// the way the run's data is looked at: a PNG grid with cols columns for
// images; for sequences what RenderExamples draws (a frame strip as .png, an
// animated GIF as .gif; series as panels).
func (t *Trained) DrawSamples(n, cols int, format string) ([]byte, error) {
	if !t.Data.Shape.IsSequence() {
		if ext := strings.ToLower(filepath.Ext(format)); ext != ".png" {
			return nil, fmt.Errorf("%s samples are images, drawn as .png, not %q: change the file extension", t.Data.Name, ext)
		}
		return t.SampleGrid(n, cols)
	}
	if err := checkFormat(t.Data, strings.ToLower(filepath.Ext(format))); err != nil {
		return nil, err
	}
	seqs, err := t.Generate(n)
	if err != nil {
		return nil, err
	}
	return RenderExamples(t.Data, seqs, format)
}
