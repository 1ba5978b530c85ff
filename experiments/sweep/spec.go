// Package sweep runs hyperparameter sweeps: a sweep spec (a run spec plus a
// search space, seeds, a metric and a method: grid, random or successive
// halving) expands into trials, each an ordinary run through
// experiments.Run, recorded in the tracker and linked to its sweep.
//
// A controller (Start, Resume) holds a sweep, starts workers that claim
// trials atomically from the tracker, promotes or prunes successive-halving
// trials at each rung, and shows progress. RunTrial runs exactly one trial,
// for job arrays on Slurm or Kubernetes (EmitSlurm, EmitK8s), whose
// per-task databases `tracker merge` brings together.
package sweep

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vaexp/vaexp/experiments"
)

// Methods lists the search methods.
var Methods = []string{"grid", "random", "halving"}

// Distributions lists the distributions a range in the space may have.
var Distributions = []string{"uniform", "log_uniform", "int_uniform", "log_int_uniform"}

// Spec is a sweep: a run spec (the same keys as `vaexp train --spec`) that
// fixes what every trial shares, plus the sweep's own keys.
type Spec struct {
	// Run is the base run spec every trial starts from.
	Run experiments.Spec
	// Name names the sweep (key name:, default the file's base name); the
	// trials' runs are named <name>-<index>.
	Name string
	// Method is grid, random or halving.
	Method string
	// Space are the swept parameters, sorted by name.
	Space []Dim
	// Seeds repeats every configuration once per seed (seeds: 3 means 1, 2, 3).
	Seeds []int64
	// Metric is the metric key trials are compared on (e.g. test/nelbo);
	// Direction is min or max.
	Metric, Direction string
	// Trials is the number of configurations random and halving sample (0
	// for halving: the whole grid of the space).
	Trials int
	// SamplerSeed seeds the random sampling of configurations.
	SamplerSeed int64
	// Halving holds the successive-halving settings.
	Halving Halving
	// Text is the spec as written; File where it came from (for errors).
	Text, File string
}

// Halving is successive halving (Jamieson & Talwalkar 2016; Li et al.
// 2018): every configuration trains for Min budget units, the best 1/Eta
// continue to Min·Eta, and so on up to Max, which is the full training.
type Halving struct {
	// Min and Max are the first and last rungs' budgets, in Unit ("epochs"
	// or "steps").
	Min, Max int
	Unit     string
	// Eta is the reduction factor (>= 2).
	Eta int
	// Async promotes a trial as soon as it ranks in the top 1/Eta of the
	// results its rung has so far (ASHA), instead of waiting for the whole
	// rung: no idle workers, at the price of promotions made on partial
	// information.
	Async bool
}

// Budgets lists the rungs' budgets: Min·Eta^k for k = 0 … K−1, then Max,
// where K = ⌊log_Eta(Max/Min)⌋ (at least one rung below Max when Min < Max).
func (h Halving) Budgets() []int {
	var out []int
	for b := h.Min; b*h.Eta <= h.Max; b *= h.Eta {
		out = append(out, b)
	}
	if len(out) == 0 && h.Min < h.Max {
		out = append(out, h.Min)
	}
	return append(out, h.Max)
}

// Dim is one swept parameter: a list of values, or a range with a
// distribution (and Steps grid points for the grid method).
type Dim struct {
	// Name is the parameter: a family hyperparameter (beta), a run setting
	// (train.lr, data.binarize), or model to sweep over families.
	Name string
	// Values is the list to choose from (int64, float64, bool or string).
	Values []any
	// Dist, Min and Max describe a range when Values is empty.
	Dist     string
	Min, Max float64
	// Steps is the number of grid points of a range (log-spaced for log_*).
	Steps int
	// node is the parameter's key in the file; vnodes its values' nodes
	// (min and max for a range), for errors.
	node   *yaml.Node
	vnodes []*yaml.Node
}

// SpecError is a mistake in a sweep spec, with where it is.
type SpecError struct {
	File         string
	Line, Column int
	Msg          string
}

func (e *SpecError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// Load reads and checks a sweep spec file; see Parse.
func Load(path string) (*Spec, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read sweep spec: %w", err)
	}
	return Parse(path, raw)
}

// sweepKeys are the keys a sweep spec adds to a run spec.
var sweepKeys = []string{"method", "space", "seeds", "metric", "direction", "trials", "sampler_seed", "halving"}

// Parse reads sweep spec text (file names it in errors) and checks all of
// it before anything trains: unknown keys, empty lists, bad distributions,
// ranges with min > max, unknown families or parameters, values a family
// refuses, and a metric the family does not record. Errors are *SpecError
// with the line and column and the fix.
func Parse(file string, raw []byte) (*Spec, error) { return parse(file, raw, true) }

// parse reads a spec; check false skips checkTrials, for the text of a
// sweep the tracker already holds (checked when it was created).
func parse(file string, raw []byte, check bool) (*Spec, error) {
	p := &parser{file: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, p.yamlError(err, &doc)
	}
	if len(doc.Content) == 0 {
		return nil, &SpecError{File: file, Msg: "empty sweep spec: give at least model:, method: and space: (see experiments/sweeps/beta.yaml)"}
	}
	root := doc.Content[0]
	p.root = root
	if err := p.duplicates(root); err != nil {
		return nil, err
	}
	if root.Kind != yaml.MappingNode {
		return nil, p.errAt(root, "a sweep spec is a mapping of keys (model:, method:, space:, ...), not a %s", kindName(root))
	}
	s := &Spec{Run: experiments.DefaultSpec(), Text: string(raw), File: file, Direction: "min", SamplerSeed: 1}
	s.Name = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	runNode := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: root.Line, Column: root.Column}
	var spaceNode, seedsNode, halvingNode, metricNode *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "method":
			s.Method = v.Value
			if !slices.Contains(Methods, s.Method) {
				return nil, p.errAt(v, "method %q: use one of %s", v.Value, strings.Join(Methods, ", "))
			}
		case "space":
			spaceNode = v
		case "seeds":
			seedsNode = v
		case "metric":
			s.Metric, metricNode = v.Value, v
		case "direction":
			switch v.Value {
			case "min", "minimize":
				s.Direction = "min"
			case "max", "maximize":
				s.Direction = "max"
			default:
				return nil, p.errAt(v, "direction %q: use min (losses, NLL) or max", v.Value)
			}
		case "trials":
			n, err := p.intValue(v, "trials")
			if err != nil {
				return nil, err
			}
			if n < 1 {
				return nil, p.errAt(v, "trials: %d: sample at least 1 configuration", n)
			}
			s.Trials = n
		case "sampler_seed":
			n, err := p.intValue(v, "sampler_seed")
			if err != nil {
				return nil, err
			}
			s.SamplerSeed = int64(n)
		case "halving":
			halvingNode = v
		default:
			if err := p.checkRunKey(k, v); err != nil {
				return nil, err
			}
			runNode.Content = append(runNode.Content, k, v)
		}
	}
	if err := runNode.Decode(&s.Run); err != nil {
		return nil, p.yamlError(err, root)
	}
	if name := mapValue(root, "name"); name != nil {
		s.Name = name.Value
	}
	s.Run.Name = ""
	if !nameRE.MatchString(s.Name) {
		at := mapValue(root, "name")
		if at == nil {
			at = root
		}
		return nil, p.errAt(at, "sweep name %q: use letters, digits, '.', '_' and '-' (it names files and Slurm jobs); set name:", s.Name)
	}
	if s.Method == "" {
		return nil, p.errAt(root, "no method: add method: grid, random or halving")
	}
	if err := p.seeds(s, seedsNode); err != nil {
		return nil, err
	}
	if spaceNode == nil {
		return nil, p.errAt(root, "no space: add space: with at least one parameter, e.g. space: {beta: [1, 4]}")
	}
	if err := p.space(s, spaceNode); err != nil {
		return nil, err
	}
	if err := p.halving(s, halvingNode); err != nil {
		return nil, err
	}
	switch s.Method {
	case "grid":
		if s.Trials != 0 {
			return nil, p.errAt(mapValue(root, "trials"), "trials: the grid method runs every point of the space; drop trials: or use method: random")
		}
		for _, d := range s.Space {
			if _, ok := d.points(); !ok {
				return nil, p.errAt(d.node, "%s is a range: a grid needs its points; add steps: N, list values:, or use method: random", d.Name)
			}
		}
	case "random":
		if s.Trials == 0 {
			return nil, p.errAt(root, "method random needs trials: N (the number of configurations to sample)")
		}
	}
	if !check {
		if s.Metric == "" {
			s.Metric = "test/nelbo"
		}
		return s, nil
	}
	if err := p.checkTrials(s, metricNode); err != nil {
		return nil, err
	}
	return s, nil
}

// FullBudget turns a halving sweep into the baseline it saves compute
// against: the same configurations and seeds, every one trained to the top
// rung's budget (method random, or grid when halving ran the whole grid),
// named <name>-full. The spec text is rewritten accordingly, so that the
// tracker records what actually ran.
func (s *Spec) FullBudget() (*Spec, error) {
	if s.Method != "halving" {
		return nil, fmt.Errorf("sweep %s is method %s: only a halving sweep has a full-budget baseline", s.Name, s.Method)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(s.Text), &doc); err != nil {
		return nil, err
	}
	root := doc.Content[0]
	var kept []*yaml.Node
	var train *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		switch root.Content[i].Value {
		case "halving", "method", "name":
			continue
		case "train":
			train = root.Content[i+1]
		}
		kept = append(kept, root.Content[i], root.Content[i+1])
	}
	scalar := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v} }
	if train == nil {
		train = &yaml.Node{Kind: yaml.MappingNode}
		kept = append(kept, scalar("train"), train)
	}
	var tk []*yaml.Node
	for i := 0; i+1 < len(train.Content); i += 2 {
		if k := train.Content[i].Value; k != "epochs" && k != "steps" {
			tk = append(tk, train.Content[i], train.Content[i+1])
		}
	}
	train.Content = append(tk, scalar(s.Halving.Unit), scalar(strconv.Itoa(s.Halving.Max)))
	method := "random"
	if s.Trials == 0 {
		method = "grid"
	}
	root.Content = append([]*yaml.Node{scalar("name"), scalar(s.Name + "-full"), scalar("method"), scalar(method)}, kept...)
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return nil, err
	}
	return Parse(s.File, out)
}
