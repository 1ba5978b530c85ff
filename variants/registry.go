// Package variants holds every vaexp family, one file each, behind one
// registry. A family is a config type (hyperparameters with defaults,
// validation and the paper it follows) that builds a [vae.Model].
//
// Adding a family is one file here plus one line in [families].
package variants

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/vaexp/vaexp/vae"
)

// Config is a family's hyperparameters. Exported fields tagged `param:"name"`
// are settable by name (see [Set]) and listed by [Describe].
type Config interface {
	// Validate reports the first bad hyperparameter for the data set d,
	// naming it and its valid range.
	Validate(d vae.Data) error
	// Build constructs the model for the data set d; it is called after Validate.
	Build(d vae.Data) vae.Model
	// Training declares how the run driver optimizes the model.
	Training() Training
}

// Training is how the run driver optimizes a family: its main optimizer's
// settings and its update schedule. The loop reads it and has no other
// knowledge of families.
type Training struct {
	// LR is the main Adam's default learning rate; a run's train.lr overrides it.
	LR float64
	// Beta1 and Beta2 are the main Adam's moment decay rates (e.g. 0.5 and
	// 0.999 for DCGAN); a run's train.beta1/beta2 override them.
	Beta1, Beta2 float64
	// Epsilon is the main Adam's ε, added to the denominator's √v̂ (e.g. 1e-4 in
	// Burda et al. 2015); 0 means GoMLX's default, 1e-7. A run's train.adam_eps
	// overrides it.
	Epsilon float64
	// LRSchedule names how the main learning rate changes over the epochs:
	// "" or "constant" keeps LR; "burda2016" is Burda et al.'s (2016): LR·10^(−i/7)
	// during stage i = 0, 1, 2, …, which lasts 3^i epochs (3,280 epochs to
	// the end of stage 7). A run's train.lr_schedule overrides it.
	LRSchedule string
	// AuxSteps is how many updates the auxiliary objectives (discriminators)
	// get per main update. 1 updates both on every batch, simultaneously; k > 1
	// spends k−1 batches updating only the auxiliary objectives before each
	// joint update (as WGAN's critic steps). Every batch is one step.
	AuxSteps int
	// Alarms flag a failing run from its terms (e.g. a GAN's discriminator
	// winning outright); the driver tags the run when one fires.
	Alarms []Alarm
}

// Alarm fires when a recorded term stays beyond a threshold for a number of
// consecutive steps.
type Alarm struct {
	// Name is what is tagged ("d_wins").
	Name string
	// Term is the recorded term watched.
	Term string
	// Below fires on values below Threshold; otherwise above it.
	Below     bool
	Threshold float64
	// Steps is how many consecutive steps the condition must hold.
	Steps int
	// Meaning says in a few words what a firing means.
	Meaning string
}

// LRSchedules lists the learning-rate schedules a [Training] may name.
var LRSchedules = []string{"constant", "burda2016"}

// LRFactor is the factor of the base learning rate that schedule gives at
// a 0-based epoch (see [Training].LRSchedule).
func LRFactor(schedule string, epoch int) float64 {
	if schedule != "burda2016" {
		return 1
	}
	return math.Pow(10, -float64(Burda2016Stage(epoch))/7)
}

// Burda2016Stage is the stage i of Burda et al.'s schedule at a 0-based
// epoch: the stages last 1, 3, 9, … epochs, so stage i starts at epoch
// (3^i − 1)/2.
func Burda2016Stage(epoch int) int {
	i := 0
	for start, length := 1, 3; epoch >= start; start, length = start+length, length*3 {
		i++
	}
	return i
}

// DefaultTraining is Adam(1e-3, β = 0.9, 0.999) with every objective updated
// on every batch: what every VAE family uses.
var DefaultTraining = Training{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, AuxSteps: 1}

// Validate reports a setting the driver cannot use.
func (t Training) Validate() error {
	switch {
	case !(t.LR > 0) || math.IsInf(t.LR, 0):
		return fmt.Errorf("learning rate %g: must be > 0 and finite (e.g. 1e-3)", t.LR)
	case !(t.Beta1 >= 0 && t.Beta1 < 1):
		return fmt.Errorf("beta1 %g: must be in [0, 1) (e.g. 0.9, or 0.5 for GANs)", t.Beta1)
	case !(t.Beta2 >= 0 && t.Beta2 < 1):
		return fmt.Errorf("beta2 %g: must be in [0, 1) (e.g. 0.999)", t.Beta2)
	case !(t.Epsilon >= 0) || math.IsInf(t.Epsilon, 0):
		return fmt.Errorf("adam epsilon %g: must be >= 0 and finite (e.g. 1e-4; 0 for GoMLX's 1e-7)", t.Epsilon)
	case !slices.Contains(LRSchedules, t.LRSchedule) && t.LRSchedule != "":
		return fmt.Errorf("learning-rate schedule %q: use one of %s", t.LRSchedule, strings.Join(LRSchedules, ", "))
	case t.AuxSteps < 1:
		return fmt.Errorf("aux steps %d: must be >= 1", t.AuxSteps)
	}
	for _, a := range t.Alarms {
		if a.Name == "" || a.Term == "" || a.Steps < 1 {
			return fmt.Errorf("alarm %+v: needs a name, a term and steps >= 1", a)
		}
	}
	return nil
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
	ganFamily,
	dcganFamily,
	vrnnFamily,
	seqVAEFamily,
	iwaeFamily,
}

// Architectures lists the network architectures the family offers (the
// values of its "arch" hyperparameter), default first; nil when the family
// has a single fixed architecture.
func (f Family) Architectures() []string {
	cfg := f.NewConfig()
	for _, p := range Describe(cfg) {
		if p.Name != "arch" {
			continue
		}
		out := []string{p.Default}
		for _, a := range strings.Split(p.Range, "|") {
			if a != p.Default {
				out = append(out, a)
			}
		}
		return out
	}
	return nil
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
// params (name → value, values as strings or Go values), validated for the data set d.
func NewConfig(name string, params map[string]any, d vae.Data) (Config, error) {
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
	if err := cfg.Validate(d); err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	return cfg, nil
}

// New builds the named family's model; see [NewConfig].
func New(name string, params map[string]any, d vae.Data) (vae.Model, Config, error) {
	cfg, err := NewConfig(name, params, d)
	if err != nil {
		return nil, nil, err
	}
	return cfg.Build(d), cfg, nil
}
