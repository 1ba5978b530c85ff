package sweep

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vaexp/vaexp/experiments"
	"github.com/vaexp/vaexp/internal/suggest"
)

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
	for _, c := range cands {
		if strings.HasSuffix(c, "."+s) {
			return fmt.Sprintf(" (did you mean %s?)", c)
		}
	}
	if best := suggest.Closest(s, cands, 2); best != "" {
		return fmt.Sprintf(" (did you mean %s?)", best)
	}
	return ""
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
