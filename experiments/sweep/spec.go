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
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vaexp/vaexp/experiments"
	"github.com/vaexp/vaexp/variants"
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

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

type parser struct {
	file string
	root *yaml.Node
}

func (p *parser) errAt(n *yaml.Node, format string, args ...any) error {
	if n == nil {
		n = p.root
	}
	e := &SpecError{File: p.file, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

// duplicates rejects a key given twice in any mapping (yaml.v3 keeps both
// in its node tree without a word).
func (p *parser) duplicates(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		seen := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if prev, ok := seen[k.Value]; ok {
				return p.errAt(k, "key %q is given twice (first at line %d): keep one", k.Value, prev.Line)
			}
			seen[k.Value] = k
		}
	}
	for _, c := range n.Content {
		if err := p.duplicates(c); err != nil {
			return err
		}
	}
	return nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "list"
	case yaml.MappingNode:
		return "mapping"
	}
	return "single value"
}

// yamlLineRE finds the line yaml.v3 puts in its messages.
var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// goTypeWords replaces Go type names in yaml.v3's messages with words.
var goTypeWords = strings.NewReplacer(" into int64", " into a whole number", " into int", " into a whole number",
	" into float64", " into a number", " into bool", " into true or false", " into string", " into text",
	" into map[string]string", " into a mapping", " into map[string]interface {}", " into a mapping",
	"!!str ", "", "!!seq", "a list", "!!map", "a mapping", "!!int ", "", "!!float ", "", "!!bool ", "")

// yamlError turns a yaml.v3 error into a SpecError at its line (and the
// column of the value it names, when it can be found).
func (p *parser) yamlError(err error, root *yaml.Node) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	m := yamlLineRE.FindStringSubmatch(msgs[0])
	if m == nil {
		return &SpecError{File: p.file, Msg: goTypeWords.Replace(msgs[0])}
	}
	line, _ := strconv.Atoi(m[1])
	e := &SpecError{File: p.file, Line: line, Column: 1, Msg: goTypeWords.Replace(m[2])}
	if n := findOnLine(root, line, m[2]); n != nil {
		e.Column = n.Column
	}
	e.Msg += " (fix the value; see `vaexp train --help` for each setting's type)"
	return e
}

// findOnLine returns the scalar node on line whose value the message quotes
// (or the first scalar on the line).
func findOnLine(n *yaml.Node, line int, msg string) *yaml.Node {
	var first, quoted *yaml.Node
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil {
			return
		}
		if n.Kind == yaml.ScalarNode && n.Line == line {
			if first == nil {
				first = n
			}
			if quoted == nil && strings.Contains(msg, "`"+n.Value+"`") {
				quoted = n
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	if quoted != nil {
		return quoted
	}
	return first
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func (p *parser) intValue(v *yaml.Node, key string) (int, error) {
	n, err := strconv.Atoi(v.Value)
	if v.Kind != yaml.ScalarNode || err != nil {
		return 0, p.errAt(v, "%s: %q is not a whole number", key, v.Value)
	}
	return n, nil
}

// runKeys are the keys of experiments.Spec and its nested sections, read
// from its yaml tags so that a key added there is accepted here.
func runKeys(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		out[name] = f.Type
	}
	return out
}

// checkRunKey rejects a key that is neither a sweep key nor a run-spec key,
// and unknown keys inside the run spec's sections.
func (p *parser) checkRunKey(k, v *yaml.Node) error {
	keys := runKeys(reflect.TypeOf(experiments.Spec{}))
	t, ok := keys[k.Value]
	if !ok {
		all := append(sortedNames(keys), sweepKeys...)
		return p.errAt(k, "unknown key %q%s: a sweep spec has the run keys (%s) and the sweep keys (%s)",
			k.Value, didYouMean(k.Value, all), strings.Join(sortedNames(keys), ", "), strings.Join(sweepKeys, ", "))
	}
	if t.Kind() != reflect.Struct || v.Kind != yaml.MappingNode {
		return nil
	}
	sub := runKeys(t)
	for i := 0; i+1 < len(v.Content); i += 2 {
		sk := v.Content[i]
		if _, ok := sub[sk.Value]; !ok {
			return p.errAt(sk, "unknown key %s.%s%s: %s: has %s", k.Value, sk.Value, didYouMean(sk.Value, sortedNames(sub)),
				k.Value, strings.Join(sortedNames(sub), ", "))
		}
	}
	return nil
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// didYouMean suggests the closest candidate within edit distance 2, or one
// that is s with a section in front (lr → train.lr).
func didYouMean(s string, cands []string) string {
	best, bestD := "", 3
	for _, c := range cands {
		if strings.HasSuffix(c, "."+s) {
			return fmt.Sprintf(" (did you mean %s?)", c)
		}
	}
	for _, c := range cands {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func (p *parser) seeds(s *Spec, n *yaml.Node) error {
	switch {
	case n == nil:
		s.Seeds = []int64{s.Run.Seed}
	case n.Kind == yaml.ScalarNode:
		k, err := p.intValue(n, "seeds")
		if err != nil {
			return err
		}
		if k < 1 {
			return p.errAt(n, "seeds: %d: give a count >= 1 (seeds: 3 means seeds 1, 2, 3) or a list such as [1, 7, 42]", k)
		}
		for i := 1; i <= k; i++ {
			s.Seeds = append(s.Seeds, int64(i))
		}
	case n.Kind == yaml.SequenceNode:
		if len(n.Content) == 0 {
			return p.errAt(n, "seeds: empty list: give at least one seed, or a count (seeds: 3)")
		}
		for _, c := range n.Content {
			k, err := strconv.ParseInt(c.Value, 10, 64)
			if err != nil || c.Kind != yaml.ScalarNode {
				return p.errAt(c, "seed %q is not a whole number", c.Value)
			}
			if slices.Contains(s.Seeds, k) {
				return p.errAt(c, "seed %d is listed twice: each seed once", k)
			}
			s.Seeds = append(s.Seeds, k)
		}
	default:
		return p.errAt(n, "seeds: give a count (seeds: 3) or a list ([1, 2, 3])")
	}
	return nil
}

// specPaths are the run settings a space may sweep: data.*, train.*,
// eval.* (scalar fields only).
func specPaths() map[string]reflect.Kind {
	out := map[string]reflect.Kind{}
	for name, t := range runKeys(reflect.TypeOf(experiments.Spec{})) {
		if t.Kind() != reflect.Struct {
			continue
		}
		for sub, st := range runKeys(t) {
			switch st.Kind() {
			case reflect.Int, reflect.Int64, reflect.Float64, reflect.String, reflect.Bool:
				out[name+"."+sub] = st.Kind()
			}
		}
	}
	return out
}

// scalarValue reads a YAML scalar as int64, float64, bool or string.
func scalarValue(n *yaml.Node) (any, bool) {
	if n.Kind != yaml.ScalarNode {
		return nil, false
	}
	switch n.ShortTag() {
	case "!!int":
		v, err := strconv.ParseInt(n.Value, 0, 64)
		return v, err == nil
	case "!!float":
		v, err := strconv.ParseFloat(n.Value, 64)
		return v, err == nil
	case "!!bool":
		v, err := strconv.ParseBool(n.Value)
		return v, err == nil
	}
	return n.Value, true
}

func (p *parser) space(s *Spec, n *yaml.Node) error {
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		return p.errAt(n, "space: give at least one parameter, as a mapping of parameter → values, e.g. space: {beta: [1, 4], train.lr: {distribution: log_uniform, min: 1e-4, max: 1e-2}}")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		d := Dim{Name: k.Value, node: k}
		if k.Value == "seed" {
			return p.errAt(k, "seed is swept with the sweep key seeds: (e.g. seeds: 3), not in space:")
		}
		switch v.Kind {
		case yaml.SequenceNode:
			vals, err := p.values(k.Value, v)
			if err != nil {
				return err
			}
			d.Values, d.vnodes = vals, v.Content
		case yaml.ScalarNode:
			val, _ := scalarValue(v)
			d.Values, d.vnodes = []any{val}, []*yaml.Node{v}
		case yaml.MappingNode:
			if err := p.dist(&d, v); err != nil {
				return err
			}
		default:
			return p.errAt(v, "%s: give a list of values or a range {distribution:, min:, max:}", k.Value)
		}
		s.Space = append(s.Space, d)
	}
	sort.Slice(s.Space, func(i, j int) bool { return s.Space[i].Name < s.Space[j].Name })
	return nil
}

func (p *parser) values(name string, v *yaml.Node) ([]any, error) {
	if len(v.Content) == 0 {
		return nil, p.errAt(v, "%s: empty list: a swept parameter needs at least one value", name)
	}
	var vals []any
	for _, c := range v.Content {
		val, ok := scalarValue(c)
		if !ok {
			return nil, p.errAt(c, "%s: each value is a single number, word or true/false, not a %s (quote lists: \"512,256\")", name, kindName(c))
		}
		for _, prev := range vals {
			if fmt.Sprint(prev) == fmt.Sprint(val) {
				return nil, p.errAt(c, "%s: value %v is listed twice", name, val)
			}
		}
		vals = append(vals, val)
	}
	return vals, nil
}

func (p *parser) dist(d *Dim, v *yaml.Node) error {
	var haveMin, haveMax bool
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, x := v.Content[i], v.Content[i+1]
		switch k.Value {
		case "values":
			if x.Kind != yaml.SequenceNode {
				return p.errAt(x, "%s.values: give a list, e.g. values: [1, 2, 4]", d.Name)
			}
			vals, err := p.values(d.Name, x)
			if err != nil {
				return err
			}
			d.Values, d.vnodes = vals, x.Content
		case "distribution":
			if !slices.Contains(Distributions, x.Value) {
				return p.errAt(x, "%s: distribution %q%s: use one of %s", d.Name, x.Value, didYouMean(x.Value, Distributions), strings.Join(Distributions, ", "))
			}
			d.Dist = x.Value
		case "min", "max":
			f, err := strconv.ParseFloat(x.Value, 64)
			if err != nil || x.Kind != yaml.ScalarNode || math.IsNaN(f) || math.IsInf(f, 0) {
				return p.errAt(x, "%s.%s: %q is not a finite number", d.Name, k.Value, x.Value)
			}
			if k.Value == "min" {
				d.Min, haveMin = f, true
			} else {
				d.Max, haveMax = f, true
			}
		case "steps":
			n, err := p.intValue(x, d.Name+".steps")
			if err != nil {
				return err
			}
			if n < 1 {
				return p.errAt(x, "%s.steps: %d: a grid over a range needs at least 1 point", d.Name, n)
			}
			d.Steps = n
		default:
			return p.errAt(k, "%s: unknown key %q%s: a range has distribution, min, max and steps (grid points); a list has values",
				d.Name, k.Value, didYouMean(k.Value, []string{"distribution", "min", "max", "steps", "values"}))
		}
	}
	d.vnodes = []*yaml.Node{mapValue(v, "min"), mapValue(v, "max")}
	if d.Values != nil {
		d.vnodes = mapValue(v, "values").Content
		if haveMin || haveMax || d.Dist != "" {
			return p.errAt(v, "%s: give either values: or a range (distribution, min, max), not both", d.Name)
		}
		return nil
	}
	if !haveMin || !haveMax {
		return p.errAt(v, "%s: a range needs both min: and max: (or give values: [...])", d.Name)
	}
	if d.Dist == "" {
		d.Dist = "uniform"
	}
	if d.Min > d.Max {
		return p.errAt(v, "%s: min %g > max %g: swap them", d.Name, d.Min, d.Max)
	}
	if strings.HasPrefix(d.Dist, "log_") && d.Min <= 0 {
		return p.errAt(v, "%s: %s needs min > 0 (got %g): use a positive lower bound or distribution: uniform", d.Name, d.Dist, d.Min)
	}
	if strings.Contains(d.Dist, "int_") && (d.Min != math.Trunc(d.Min) || d.Max != math.Trunc(d.Max)) {
		return p.errAt(v, "%s: %s needs whole-number bounds (got %g, %g)", d.Name, d.Dist, d.Min, d.Max)
	}
	return nil
}

func (p *parser) halving(s *Spec, n *yaml.Node) error {
	if s.Method != "halving" {
		if n != nil {
			return p.errAt(n, "halving: settings apply to method: halving only; drop them or set method: halving")
		}
		return nil
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return p.errAt(n, "method halving needs halving: {min: 1, max: 9, unit: epochs, eta: 3}")
	}
	h := Halving{Unit: "epochs", Eta: 3}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "min", "max", "eta":
			x, err := p.intValue(v, "halving."+k.Value)
			if err != nil {
				return err
			}
			switch k.Value {
			case "min":
				h.Min = x
			case "max":
				h.Max = x
			case "eta":
				h.Eta = x
			}
		case "unit":
			if v.Value != "epochs" && v.Value != "steps" {
				return p.errAt(v, "halving.unit %q: use epochs or steps", v.Value)
			}
			h.Unit = v.Value
		case "async":
			b, err := strconv.ParseBool(v.Value)
			if err != nil {
				return p.errAt(v, "halving.async %q: use true or false", v.Value)
			}
			h.Async = b
		default:
			return p.errAt(k, "halving: unknown key %q%s: halving has min, max, unit, eta and async", k.Value,
				didYouMean(k.Value, []string{"min", "max", "unit", "eta", "async"}))
		}
	}
	switch {
	case h.Min < 1:
		return p.errAt(n, "halving.min %d: the first rung needs a budget >= 1 %s", h.Min, h.Unit)
	case h.Max < h.Min:
		return p.errAt(n, "halving: min %d > max %d: swap them", h.Min, h.Max)
	case h.Eta < 2:
		return p.errAt(n, "halving.eta %d: keep 1/eta of the trials per rung, with eta >= 2 (3 is usual)", h.Eta)
	}
	if s.Trials == 0 {
		for _, d := range s.Space {
			if _, ok := d.points(); !ok {
				return p.errAt(d.node, "%s is a range: halving samples trials: N configurations from it; add trials:, or give steps:/values", d.Name)
			}
		}
	}
	s.Halving = h
	return nil
}

// checkTrials validates what the expanded trials will run: every parameter
// exists for its family, every value passes the family's validation, and
// the metric is one the family records.
func (p *parser) checkTrials(s *Spec, metricNode *yaml.Node) error {
	families := []string{s.Run.Family}
	var modelDim *Dim
	for i, d := range s.Space {
		if d.Name == "model" {
			modelDim = &s.Space[i]
			if d.Values == nil {
				return p.errAt(d.node, "model: list the families to compare, e.g. model: [vae, beta-vae]")
			}
			families = nil
			for _, v := range d.Values {
				families = append(families, fmt.Sprint(v))
			}
		}
	}
	paths := specPaths()
	for fi, fam := range families {
		f, err := variants.Get(fam)
		if err != nil {
			at := mapValue(p.root, "model")
			if modelDim != nil {
				at = mapValue(mapValue(p.root, "space"), "model").Content[fi]
			}
			return p.errAt(at, "%v", err)
		}
		params := map[string]bool{}
		for _, prm := range variants.Describe(f.NewConfig()) {
			params[prm.Name] = true
		}
		if pn := mapValue(p.root, "params"); pn != nil && pn.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(pn.Content); i += 2 {
				if k := pn.Content[i]; !params[k.Value] {
					return p.errAt(k, "params: model %s has no hyperparameter %q%s: its hyperparameters are %s (see `vaexp models %s`)",
						fam, k.Value, didYouMean(k.Value, sortedNames(params)), strings.Join(sortedNames(params), ", "), fam)
				}
			}
		}
		for _, d := range s.Space {
			if d.Name == "model" {
				continue
			}
			if kind, ok := paths[d.Name]; ok {
				if d.Values == nil && kind != reflect.Int && kind != reflect.Float64 {
					return p.errAt(d.node, "%s is not a number: list its values instead of a range", d.Name)
				}
				continue
			}
			if !params[d.Name] {
				all := append(sortedNames(params), sortedNames(paths)...)
				return p.errAt(d.node, "space: %q is not a hyperparameter of model %s nor a run setting%s: its hyperparameters are %s; run settings are %s",
					d.Name, fam, didYouMean(d.Name, all), strings.Join(sortedNames(params), ", "), strings.Join(sortedNames(paths), ", "))
			}
		}
	}
	// Each value alone, on the base spec, so that a refused value is
	// reported where it is written.
	for _, d := range s.Space {
		vals := d.Values
		if vals == nil {
			vals = []any{d.Min, d.Max}
			if strings.Contains(d.Dist, "int_") {
				vals = []any{int64(d.Min), int64(d.Max)}
			}
		}
		for vi, v := range vals {
			if d.Name == "model" {
				continue
			}
			for _, fam := range families {
				rs := s.baseFor(fam)
				if err := applyParam(&rs, d.Name, v); err != nil {
					return p.errAt(valueNode(d, vi), "%s: %v", d.Name, err)
				}
				if _, err := rs.Validate(); err != nil {
					return p.errAt(valueNode(d, vi), "%s = %v: %v", d.Name, v, err)
				}
			}
		}
	}
	if s.Method == "halving" && s.Trials == 0 && len(s.Space) > 0 && s.gridSize() < int64(s.Halving.Eta) {
		return p.errAt(mapValue(p.root, "halving"), "halving over %d configurations keeps none after the first rung: give at least eta (%d) configurations",
			s.gridSize(), s.Halving.Eta)
	}
	// Every trial as it will run (cross-parameter checks, e.g. conv needs
	// sizes divisible by 4).
	defs, err := s.Expand()
	if err != nil {
		return p.errAt(mapValue(p.root, "space"), "%v", err)
	}
	checked := map[string]bool{}
	for _, t := range defs {
		if checked[t.Config] {
			continue
		}
		checked[t.Config] = true
		rs, err := s.TrialSpec(t)
		if err == nil {
			_, err = rs.Validate()
		}
		if err != nil {
			return p.errAt(mapValue(p.root, "space"), "trial %d (%s): %v", t.Index, t.Config, err)
		}
	}
	// The metric, for every family swept.
	for _, fam := range families {
		rs := s.baseFor(fam)
		if len(defs) > 0 {
			if rs, err = s.TrialSpec(defs[0]); err != nil {
				return err
			}
			rs.Family = fam
		}
		metrics, err := experiments.Metrics(rs)
		if err != nil {
			return p.errAt(mapValue(p.root, "model"), "%v", err)
		}
		if s.Metric == "" {
			s.Metric = "test/loss"
			if slices.Contains(metrics, "test/nelbo") {
				s.Metric = "test/nelbo"
			}
		}
		if !slices.Contains(metrics, s.Metric) {
			return p.errAt(metricNode, "metric %q is not recorded by model %s%s: it records %s", s.Metric, fam,
				didYouMean(s.Metric, metrics), strings.Join(metrics, ", "))
		}
	}
	return nil
}

// valueNode is the node of a dimension's i-th value (its key when unknown).
func valueNode(d Dim, i int) *yaml.Node {
	if i < len(d.vnodes) && d.vnodes[i] != nil {
		return d.vnodes[i]
	}
	return d.node
}

// baseFor is the base run spec with another family.
func (s *Spec) baseFor(family string) experiments.Spec {
	rs := cloneSpec(s.Run)
	rs.Family = family
	return rs
}

// cloneSpec copies a run spec with its maps, so trials never share them.
func cloneSpec(in experiments.Spec) experiments.Spec {
	out := in
	out.Params = make(map[string]any, len(in.Params))
	for k, v := range in.Params {
		out.Params[k] = v
	}
	out.Tags = make(map[string]string, len(in.Tags))
	for k, v := range in.Tags {
		out.Tags[k] = v
	}
	return out
}

// applyParam sets one swept parameter on a run spec: model, a run setting
// (train.lr) by its yaml key, or a family hyperparameter.
func applyParam(rs *experiments.Spec, name string, v any) error {
	if name == "model" {
		rs.Family = fmt.Sprint(v)
		return nil
	}
	section, key, ok := strings.Cut(name, ".")
	if !ok {
		rs.Params[name] = v
		return nil
	}
	sv := reflect.ValueOf(rs).Elem()
	var target reflect.Value
	for i := 0; i < sv.NumField(); i++ {
		if tag, _, _ := strings.Cut(sv.Type().Field(i).Tag.Get("yaml"), ","); tag == section && sv.Field(i).Kind() == reflect.Struct {
			st := sv.Field(i)
			for j := 0; j < st.NumField(); j++ {
				if tag, _, _ := strings.Cut(st.Type().Field(j).Tag.Get("yaml"), ","); tag == key {
					target = st.Field(j)
				}
			}
		}
	}
	if !target.IsValid() {
		return fmt.Errorf("no run setting %s", name)
	}
	switch target.Kind() {
	case reflect.Int, reflect.Int64:
		f, ok := toFloat(v)
		if !ok || f != math.Trunc(f) {
			return fmt.Errorf("%v is not a whole number", v)
		}
		target.SetInt(int64(f))
	case reflect.Float64:
		f, ok := toFloat(v)
		if !ok {
			return fmt.Errorf("%v is not a number", v)
		}
		target.SetFloat(f)
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("%v is not true or false", v)
		}
		target.SetBool(b)
	case reflect.String:
		target.SetString(fmt.Sprint(v))
	default:
		return fmt.Errorf("%s cannot be swept", name)
	}
	return nil
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case int:
		return float64(x), true
	}
	return 0, false
}

// Marshal returns the spec text (what the tracker stores).
func (s *Spec) Marshal() []byte { return bytes.Clone([]byte(s.Text)) }

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
