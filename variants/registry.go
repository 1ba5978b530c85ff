// Package variants holds every vaexp family, one file each, behind one
// registry. A family is a config type (hyperparameters with defaults,
// validation and the paper it follows) that builds a [vae.Model].
//
// Adding a family is one file here plus one line in [families].
package variants

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vaexp/vaexp/vae"
)

// Config is a family's hyperparameters. Exported fields tagged `param:"name"`
// are settable by name (see [Set]) and listed by [Describe].
type Config interface {
	// Validate reports the first bad hyperparameter, naming it and its valid range.
	Validate(shape vae.Shape) error
	// Build constructs the model for examples of the given shape; it is called after Validate.
	Build(shape vae.Shape) vae.Model
}

// Family describes one registered family.
type Family struct {
	// Name is what users type: `vaexp train --model NAME`.
	Name string
	// Summary is one line for `vaexp models`.
	Summary string
	// Paper cites what the family implements.
	Paper string
	// NewConfig returns a config holding the defaults.
	NewConfig func() Config
}

// families is the registry: one line per family.
var families = []Family{
	vaeFamily,
	vqvaeFamily,
	ladderFamily,
	aeFamily,
	cvaeFamily,
	betaVAEFamily,
	denoisingVAEFamily,
	factorVAEFamily,
	betaTCVAEFamily,
	aaeFamily,
}

// All returns the registered families sorted by name.
func All() []Family {
	out := append([]Family(nil), families...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Names returns the registered family names, sorted.
func Names() []string {
	var names []string
	for _, f := range All() {
		names = append(names, f.Name)
	}
	return names
}

// Get returns the family called name.
func Get(name string) (Family, error) {
	for _, f := range families {
		if f.Name == name {
			return f, nil
		}
	}
	return Family{}, fmt.Errorf("unknown model %q: choose one of %s (see `vaexp models`)", name, strings.Join(Names(), ", "))
}

// NewConfig returns the named family's config with its defaults overridden by
// params (name → value, values as strings or Go values), validated for shape.
func NewConfig(name string, params map[string]any, shape vae.Shape) (Config, error) {
	f, err := Get(name)
	if err != nil {
		return nil, err
	}
	cfg := f.NewConfig()
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := Set(cfg, k, params[k]); err != nil {
			return nil, fmt.Errorf("model %s: %w", name, err)
		}
	}
	if err := cfg.Validate(shape); err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	return cfg, nil
}

// New builds the named family's model; see [NewConfig].
func New(name string, params map[string]any, shape vae.Shape) (vae.Model, Config, error) {
	cfg, err := NewConfig(name, params, shape)
	if err != nil {
		return nil, nil, err
	}
	return cfg.Build(shape), cfg, nil
}
