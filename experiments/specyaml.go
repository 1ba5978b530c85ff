package experiments

import (
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// checkSpecNode checks a spec file's YAML tree against the Spec type before
// it is decoded, so that every mistake is reported with its line, the spec
// key (train.epochs) and what belongs there. yaml's own messages name Go
// types ("field epoch not found in type experiments.TrainSpec", "cannot
// unmarshal !!seq into map[string]interface {}") and it silently truncates
// 2.5 to 2 for an integer field; neither is acceptable for a user's file.
func checkSpecNode(n *yaml.Node, t reflect.Type, key string) error {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil // "train:" with nothing under it keeps the defaults
	}
	where := key
	if where == "" {
		where = "the spec"
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("line %d: %s must be a mapping of keys (%s), not %s", n.Line, where, strings.Join(yamlKeys(t), ", "), nodeKind(n))
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f, ok := fieldByYAMLKey(t, k.Value)
			if !ok {
				return fmt.Errorf("line %d: unknown key %q in %s; the keys there are %s", k.Line, k.Value, where, strings.Join(yamlKeys(t), ", "))
			}
			if err := checkSpecNode(v, f.Type, joinKey(key, k.Value)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("line %d: %s must be a mapping of name: value lines, not %s", n.Line, where, nodeKind(n))
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			for v.Kind == yaml.AliasNode && v.Alias != nil {
				v = v.Alias
			}
			name := joinKey(key, k.Value)
			switch {
			case v.Kind == yaml.ScalarNode:
			case v.Kind == yaml.SequenceNode && t.Elem().Kind() == reflect.Interface && scalarsOnly(v):
				// A list hyperparameter, e.g. hidden: [512, 256].
			case t.Elem().Kind() == reflect.Interface:
				return fmt.Errorf("line %d: %s must be a value such as 4 or a list such as [512, 256], not %s", v.Line, name, nodeKind(v))
			default:
				return fmt.Errorf("line %d: %s must be a single value, not %s", v.Line, name, nodeKind(v))
			}
		}
	case reflect.Slice:
		// A list field, e.g. data.exclude_classes: [3, 5].
		if n.Kind != yaml.SequenceNode || !scalarsOnly(n) {
			return fmt.Errorf("line %d: %s must be a list of values such as [3, 5], not %s", n.Line, where, nodeKind(n))
		}
		for _, c := range n.Content {
			if err := checkSpecNode(c, t.Elem(), key); err != nil {
				return err
			}
		}
	default:
		if n.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: %s must be a single value, not %s", n.Line, where, nodeKind(n))
		}
		switch t.Kind() {
		case reflect.Int, reflect.Int64:
			if n.Tag != "!!int" {
				return fmt.Errorf("line %d: %s = %s: must be a whole number, e.g. %s: 10", n.Line, key, n.Value, lastKey(key))
			}
		case reflect.Float64:
			if n.Tag != "!!int" && n.Tag != "!!float" {
				return fmt.Errorf("line %d: %s = %s: must be a number, e.g. %s: 0.001", n.Line, key, n.Value, lastKey(key))
			}
		}
	}
	return nil
}

// fieldByYAMLKey finds the struct field whose yaml tag is key.
func fieldByYAMLKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// yamlKeys lists a struct's yaml keys in declaration order.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); name != "" && name != "-" {
			keys = append(keys, name)
		}
	}
	return keys
}

func scalarsOnly(n *yaml.Node) bool {
	for _, c := range n.Content {
		if c.Kind != yaml.ScalarNode {
			return false
		}
	}
	return true
}

// nodeKind names a YAML node's kind for messages.
func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		return fmt.Sprintf("the value %q", n.Value)
	}
	return "empty"
}

func joinKey(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func lastKey(key string) string {
	return key[strings.LastIndex(key, ".")+1:]
}
