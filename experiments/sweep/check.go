package sweep

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vaexp/vaexp/experiments"
	"github.com/vaexp/vaexp/variants"
)

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
