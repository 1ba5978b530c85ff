package tracker

import (
	"database/sql"
	"fmt"
	"math"
	"reflect"
	"strconv"
)

// Param is one typed run parameter. Value is an int64, float64, string or
// bool, matching Type ("int", "float", "string", "bool").
type Param struct {
	Key, Type string
	Value     any
}

// encodedParam is a parameter as stored: exact text plus, for numbers and
// bools, a REAL so SQL can compare it numerically.
type encodedParam struct {
	typ  string
	text string
	num  any // float64 or nil
}

// encodeParam accepts Go's integer, float, string and bool types, named
// types over them, and fmt.Stringer (stored as its string, so a
// time.Duration reads "1.5s").
func encodeParam(key string, v any) (encodedParam, error) {
	switch x := v.(type) {
	case int:
		return encInt(int64(x)), nil
	case int64:
		return encInt(x), nil
	case int32:
		return encInt(int64(x)), nil
	case float64:
		return encFloat(x), nil
	case float32:
		return encFloat(float64(x)), nil
	case string:
		return encodedParam{typ: "string", text: x}, nil
	case bool:
		return encBool(x), nil
	case fmt.Stringer:
		return encodedParam{typ: "string", text: x.String()}, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return encInt(rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		if u > math.MaxInt64 {
			return encodedParam{}, fmt.Errorf("param %q: value %d overflows int64 (store it as a string)", key, u)
		}
		return encInt(int64(u)), nil
	case reflect.Float32, reflect.Float64:
		return encFloat(rv.Float()), nil
	case reflect.String:
		return encodedParam{typ: "string", text: rv.String()}, nil
	case reflect.Bool:
		return encBool(rv.Bool()), nil
	}
	return encodedParam{}, fmt.Errorf("param %q: unsupported type %T (use an int, float, string or bool; format other values as a string)", key, v)
}

func encInt(i int64) encodedParam {
	return encodedParam{typ: "int", text: strconv.FormatInt(i, 10), num: float64(i)}
}

func encFloat(f float64) encodedParam {
	return encodedParam{typ: "float", text: strconv.FormatFloat(f, 'g', -1, 64), num: nullIfNaN(f)}
}

func encBool(b bool) encodedParam {
	p := encodedParam{typ: "bool", text: "false", num: 0.0}
	if b {
		p.text, p.num = "true", 1.0
	}
	return p
}

// decodeParam rebuilds the Go value from value_text, which is exact where
// value_num may have rounded (int64 beyond 2^53) or be NULL (NaN).
func decodeParam(key, typ, text string, _ sql.NullFloat64) (Param, error) {
	p := Param{Key: key, Type: typ}
	var err error
	switch typ {
	case "int":
		p.Value, err = strconv.ParseInt(text, 10, 64)
	case "float":
		p.Value, err = strconv.ParseFloat(text, 64)
	case "bool":
		p.Value, err = strconv.ParseBool(text)
	case "string":
		p.Value = text
	default:
		err = fmt.Errorf("unknown type %q", typ)
	}
	if err != nil {
		return Param{}, fmt.Errorf("decode param %q: %w", key, err)
	}
	return p, nil
}

func upsertParam(tx *sql.Tx, runID int64, key string, value any) error {
	p, err := encodeParam(key, value)
	if err != nil {
		return err
	}
	_, err = tx.Exec(`INSERT INTO params(run_id, key, type, value_text, value_num) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(run_id, key) DO UPDATE SET type = excluded.type, value_text = excluded.value_text, value_num = excluded.value_num`,
		runID, key, p.typ, p.text, p.num)
	if err != nil {
		return fmt.Errorf("set param %q of run %d: %w", key, runID, err)
	}
	return nil
}
