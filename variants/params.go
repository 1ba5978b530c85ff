package variants

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Param describes one settable hyperparameter of a family.
type Param struct {
	// Name is the key for `--set name=value` and spec files.
	Name string
	// Default is the value in a fresh config, formatted as a user would type it.
	Default string
	// Range says what values are valid ("> 0", "mlp|conv", ...).
	Range string
	// Help says what the hyperparameter means.
	Help string
}

// Hyperparameters are declared with struct tags on exported config fields,
// read here by reflection so that a family needs no hand-written setter:
//
//	Beta float64 `param:"beta" range:">= 0" help:"weight of the KL term"`
//
// Supported field kinds: int, int64, float64, bool, string, []int, []float64;
// embedded structs are walked.

// Describe lists cfg's hyperparameters and their current values, sorted by name.
func Describe(cfg Config) []Param {
	var out []Param
	walkParams(reflect.ValueOf(cfg).Elem(), func(f reflect.StructField, v reflect.Value) {
		out = append(out, Param{Name: f.Tag.Get("param"), Default: format(v), Range: f.Tag.Get("range"), Help: f.Tag.Get("help")})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Values returns cfg's hyperparameters as plain Go values (int64, float64,
// bool, string; lists as their comma-joined string) for recording in the tracker.
func Values(cfg Config) map[string]any {
	out := map[string]any{}
	walkParams(reflect.ValueOf(cfg).Elem(), func(f reflect.StructField, v reflect.Value) {
		name := f.Tag.Get("param")
		switch v.Kind() {
		case reflect.Int, reflect.Int64:
			out[name] = v.Int()
		case reflect.Float64:
			out[name] = v.Float()
		case reflect.Bool:
			out[name] = v.Bool()
		default:
			out[name] = format(v)
		}
	})
	return out
}

// Set assigns the hyperparameter called name. value is a string as typed on
// the command line ("0.5", "512,256", "true") or a Go value of a matching kind.
func Set(cfg Config, name string, value any) error {
	var target reflect.Value
	var known []string
	walkParams(reflect.ValueOf(cfg).Elem(), func(f reflect.StructField, v reflect.Value) {
		known = append(known, f.Tag.Get("param"))
		if f.Tag.Get("param") == name {
			target = v
		}
	})
	if !target.IsValid() {
		sort.Strings(known)
		return fmt.Errorf("unknown hyperparameter %q: this family has %s", name, strings.Join(known, ", "))
	}
	s := fmt.Sprint(value)
	if l, ok := value.([]int); ok {
		s = formatInts(l)
	}
	bad := func(kind string) error {
		return fmt.Errorf("hyperparameter %s=%q: want %s", name, s, kind)
	}
	switch target.Kind() {
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if ferr != nil || f != float64(int64(f)) {
				return bad("an integer")
			}
			n = int64(f)
		}
		target.SetInt(n)
	case reflect.Float64:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return bad("a number")
		}
		target.SetFloat(f)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return bad("true or false")
		}
		target.SetBool(b)
	case reflect.String:
		target.SetString(strings.TrimSpace(s))
	case reflect.Slice:
		parts := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '[' || r == ']' })
		switch target.Type().Elem().Kind() {
		case reflect.Int:
			list := make([]int, len(parts))
			for i, p := range parts {
				n, err := strconv.Atoi(p)
				if err != nil {
					return bad("comma-separated integers")
				}
				list[i] = n
			}
			target.Set(reflect.ValueOf(list))
		case reflect.Float64:
			list := make([]float64, len(parts))
			for i, p := range parts {
				f, err := strconv.ParseFloat(p, 64)
				if err != nil {
					return bad("comma-separated numbers")
				}
				list[i] = f
			}
			target.Set(reflect.ValueOf(list))
		default:
			return fmt.Errorf("hyperparameter %s: unsupported list type %s", name, target.Type())
		}
	default:
		return fmt.Errorf("hyperparameter %s: unsupported type %s", name, target.Type())
	}
	return nil
}

func walkParams(v reflect.Value, fn func(reflect.StructField, reflect.Value)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			walkParams(v.Field(i), fn)
			continue
		}
		if f.Tag.Get("param") != "" && f.IsExported() {
			fn(f, v.Field(i))
		}
	}
}

func format(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = fmt.Sprint(v.Index(i).Interface())
		}
		return strings.Join(parts, ",")
	case reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	default:
		return fmt.Sprint(v.Interface())
	}
}

func formatInts(l []int) string {
	parts := make([]string, len(l))
	for i, n := range l {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ",")
}
