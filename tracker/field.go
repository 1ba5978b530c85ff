package tracker

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vaexp/vaexp/internal/suggest"
)

// namespace says where a field's value lives.
type namespace int

const (
	nsAttr   namespace = iota // a column of runs (or the experiment's name)
	nsParam                   // params.<key>
	nsMetric                  // metrics.<key>: latest_metrics
	nsTag                     // tags.<key>
)

type attrKind int

const (
	aText attrKind = iota
	aInt
	aTime
)

// attribute is a run attribute usable in filters, order-by and columns.
// col is SQL text written by this package only; it never holds user input.
type attribute struct {
	name     string
	col      string
	kind     attrKind
	nullable bool
	aliases  []string
}

// attributes are the run attributes of the query language, in the order
// DefaultColumns shows them.
var attributes = []attribute{
	{name: "id", col: "r.id", kind: aInt},
	{name: "experiment", col: "e.name", kind: aText},
	{name: "name", col: "r.name", kind: aText, aliases: []string{"run_name"}},
	{name: "family", col: "r.family", kind: aText, aliases: []string{"model"}},
	{name: "status", col: "r.status", kind: aText},
	{name: "sweep", col: "r.sweep", kind: aText},
	{name: "seed", col: "r.seed", kind: aInt},
	{name: "created", col: "r.started_at", kind: aTime, aliases: []string{"started", "start_time"}},
	{name: "ended", col: "r.ended_at", kind: aTime, nullable: true, aliases: []string{"end_time"}},
	{name: "backend", col: "r.backend", kind: aText},
	{name: "host", col: "r.host", kind: aText},
	{name: "commit", col: "r.git_commit", kind: aText, aliases: []string{"git_commit"}},
	{name: "error", col: "r.error", kind: aText, nullable: true},
}

// defaultAttrs are the attributes DefaultColumns and Export start with.
var defaultAttrs = []string{"id", "experiment", "name", "family", "status", "sweep", "seed", "created", "ended"}

func lookupAttr(name string) *attribute {
	for i := range attributes {
		a := &attributes[i]
		if strings.EqualFold(name, a.name) {
			return a
		}
		for _, al := range a.aliases {
			if strings.EqualFold(name, al) {
				return a
			}
		}
	}
	return nil
}

func attrNames() string {
	names := make([]string, len(attributes))
	for i, a := range attributes {
		names[i] = a.name
	}
	return strings.Join(names, ", ")
}

// metricPrefixes are the recording prefixes whose '/' may be written '_'
// in a bare metric key: metrics.test_nelbo finds test/nelbo.
var metricPrefixes = []string{"train", "val", "test"}

// field is a resolved reference to one value of a run.
type field struct {
	ns     namespace
	attr   *attribute // nsAttr
	key    string     // params, metrics, tags: the key as written (unquoted)
	keys   []string   // metrics: the keys to look up, preferred first
	quoted bool       // the key was quoted: no aliasing, and String quotes it
	agg    string     // metrics: "" (the last value), "last", "min" or "max"
	col    int
}

// resolveField turns a word token into a field.
func resolveField(t token, lx *lexer) (field, error) {
	if t.dot < 0 {
		if a := lookupAttr(t.text); a != nil {
			return field{ns: nsAttr, attr: a, col: t.col}, nil
		}
		hint := ""
		if s := suggestField(t.text, attrWords()); s != "" {
			hint = fmt.Sprintf("did you mean %s? ", s)
		}
		return field{}, lx.errAt(t.col, "unknown attribute %q (%sattributes are %s; keys are written params.%s, metrics.%s or tags.%s)",
			clip(t.text, 40), hint, attrNames(), clip(t.text, 40), clip(t.text, 40), clip(t.text, 40))
	}
	ns, key := t.text[:t.dot], t.text[t.dot+1:]
	f := field{key: key, quoted: t.quoted, col: t.col}
	switch strings.ToLower(ns) {
	case "params", "param":
		f.ns = nsParam
	case "metrics", "metric":
		f.ns = nsMetric
		f.keys = metricKeys(key, t.quoted)
	case "tags", "tag":
		f.ns = nsTag
	case "attributes", "attribute", "attr", "run":
		a := lookupAttr(key)
		if a == nil || t.quoted {
			return field{}, lx.errAt(t.col, "unknown attribute %q (attributes are %s)", clip(key, 40), attrNames())
		}
		return field{ns: nsAttr, attr: a, col: t.col}, nil
	default:
		hint := ""
		if s := suggestField(ns, []string{"params", "metrics", "tags"}); s != "" {
			hint = fmt.Sprintf("did you mean %s.%s? ", s, clip(key, 40))
		}
		return field{}, lx.errAt(t.col, "unknown namespace %q in %s (%suse params., metrics., tags. or an attribute such as status)",
			clip(ns, 40), clip(t.text, 40), hint)
	}
	if key == "" {
		return field{}, lx.errAt(t.col, "missing key after %q (e.g. %sbeta; quote odd keys: %s`my key`)", ns+".", ns+".", ns+".")
	}
	return f, nil
}

func attrWords() []string {
	var w []string
	for _, a := range attributes {
		w = append(w, a.name)
		w = append(w, a.aliases...)
	}
	return w
}

// metricKeys lists the stored keys a metric reference may mean: the key as
// written, then, for a bare key such as test_nelbo, test/nelbo.
func metricKeys(key string, quoted bool) []string {
	keys := []string{key}
	if quoted || strings.Contains(key, "/") {
		return keys
	}
	for _, p := range metricPrefixes {
		if rest, ok := strings.CutPrefix(key, p+"_"); ok && rest != "" {
			keys = append(keys, p+"/"+rest)
		}
	}
	return keys
}

// suggestField returns the candidate within edit distance 2 of s (lowercased), if any.
func suggestField(s string, cands []string) string {
	if len(s) > 64 {
		return ""
	}
	return suggest.Closest(strings.ToLower(s), cands, 2)
}

// String writes the field so that parsing it again gives the same field:
// status, params.beta, metrics.test/nelbo, min(metrics.val/nelbo),
// tags.`run group`.
func (f field) String() string {
	switch f.ns {
	case nsAttr:
		return f.attr.name
	case nsParam:
		return "params." + f.keyText()
	case nsTag:
		return "tags." + f.keyText()
	}
	s := "metrics." + f.keyText()
	if f.agg != "" {
		s = f.agg + "(" + s + ")"
	}
	return s
}

// keyText is the key, backquoted when a bare word would read differently.
func (f field) keyText() string {
	bare := f.key != ""
	for _, r := range f.key {
		if !isIdentRune(r) {
			bare = false
		}
	}
	if bare && f.quoted && f.ns == nsMetric && len(metricKeys(f.key, false)) > 1 {
		bare = false // test_nelbo quoted means exactly test_nelbo
	}
	if bare {
		return f.key
	}
	return "`" + strings.ReplaceAll(f.key, "`", "``") + "`"
}

// value returns the field's value in a row: int64 (id, seed, int params),
// float64 (metrics, float params), string, bool (bool params) or time.Time
// (created, ended). ok is false when the run lacks it.
func (f field) value(r RunRow) (any, bool) {
	switch f.ns {
	case nsParam:
		v, ok := r.Params[f.key]
		return v, ok
	case nsTag:
		v, ok := r.Tags[f.key]
		return v, ok
	case nsMetric:
		for _, k := range f.keys {
			if m, ok := r.Metrics[k]; ok {
				switch f.agg {
				case "min":
					return m.Min, true
				case "max":
					return m.Max, true
				}
				return m.Value, true
			}
		}
		return nil, false
	}
	switch f.attr.name {
	case "id":
		return r.ID, true
	case "experiment":
		return r.Experiment, true
	case "name":
		return r.Name, true
	case "family":
		return r.Family, true
	case "status":
		return r.Status, true
	case "sweep":
		return r.Sweep, true
	case "seed":
		return r.Seed, true
	case "created":
		return r.StartedAt, true
	case "ended":
		return r.EndedAt, !r.EndedAt.IsZero()
	case "backend":
		return r.Backend, true
	case "host":
		return r.Host, true
	case "commit":
		return r.GitCommit, true
	case "error":
		return r.Error, r.Error != ""
	}
	return nil, false
}

// Field is a parsed reference to one value of a run — an attribute
// (status), a parameter (params.beta), a metric's last, min or max value
// (metrics.test/nelbo, min(metrics.val/nelbo)) or a tag (tags.note) — in
// the same language as filters. The CLI uses it for --columns, --by and
// --metric.
type Field struct{ f field }

// ParseField parses one field reference, such as "params.beta" or
// "min(metrics.test_nelbo)".
func ParseField(s string) (Field, error) {
	p, err := newParser("field", s)
	if err != nil {
		return Field{}, err
	}
	f, err := p.field()
	if err != nil {
		return Field{}, err
	}
	if t := p.peek(); t.kind != tEOF {
		return Field{}, p.unexpected(t, "the end of the field")
	}
	return Field{f}, nil
}

// ParseFields parses a comma-separated list of fields, as given to
// `runs list --columns`.
func ParseFields(list string) ([]Field, error) {
	p, err := newParser("columns", list)
	if err != nil {
		return nil, err
	}
	var out []Field
	for {
		f, err := p.field()
		if err != nil {
			return nil, err
		}
		out = append(out, Field{f})
		t := p.advance()
		if t.kind == tEOF {
			return out, nil
		}
		if t.kind != tComma {
			return nil, p.unexpected(t, "',' or the end of the list")
		}
	}
}

// String returns the field as it would be written in a filter; parsing it
// again gives the same field. It is the column header Export writes.
func (f Field) String() string { return f.f.String() }

// Namespace is "attribute", "params", "metrics" or "tags".
func (f Field) Namespace() string {
	return [...]string{"attribute", "params", "metrics", "tags"}[f.f.ns]
}

// Key is the attribute name or the key after the namespace.
func (f Field) Key() string {
	if f.f.ns == nsAttr {
		return f.f.attr.name
	}
	return f.f.key
}

// Value returns the field's value in r: int64 (id, seed, int params),
// float64 (metrics, float params; NaN where NaN was logged), string, bool
// or time.Time (created, ended). ok is false when r lacks the value (no
// such param, metric or tag; ended of a running run).
func (f Field) Value(r RunRow) (v any, ok bool) { return f.f.value(r) }

// DefaultColumns are the columns that show everything rows hold: the main
// attributes (id, experiment, name, family, status, sweep, seed, created,
// ended), then every param, metric (last value) and tag key present in any
// row, each group sorted by key.
func DefaultColumns(rows []RunRow) []Field {
	var out []Field
	for _, name := range defaultAttrs {
		out = append(out, Field{field{ns: nsAttr, attr: lookupAttr(name)}})
	}
	params, metrics, tags := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, r := range rows {
		for k := range r.Params {
			params[k] = true
		}
		for k := range r.Metrics {
			metrics[k] = true
		}
		for k := range r.Tags {
			tags[k] = true
		}
	}
	for _, g := range []struct {
		ns   namespace
		keys map[string]bool
	}{{nsParam, params}, {nsMetric, metrics}, {nsTag, tags}} {
		keys := make([]string, 0, len(g.keys))
		for k := range g.keys {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			f := field{ns: g.ns, key: k, quoted: true}
			if g.ns == nsMetric {
				f.keys = []string{k}
			}
			out = append(out, Field{f})
		}
	}
	return out
}

// checkComparison checks a comparison's literals against its field's type
// and converts them to the form the compiler binds: numbers for numeric
// fields, unix seconds for times, text for text fields.
func checkComparison(c *cmpNode, lx *lexer) error {
	f := c.f
	name := f.String()
	ordering := c.op == "<" || c.op == "<=" || c.op == ">" || c.op == ">="
	kind := aText
	switch f.ns {
	case nsAttr:
		kind = f.attr.kind
	case nsMetric:
		kind = aInt // numeric
	case nsParam:
		if c.op == "like" {
			return nil
		}
		for _, l := range c.lits {
			if l.kind == litBool && ordering {
				return lx.errAt(l.col, "%s compares with = or != only", l.str)
			}
		}
		return nil
	}
	if c.op == "like" && kind != aText {
		return lx.errAt(f.col, "LIKE applies to text, and %s is a %s", name, kindName(kind))
	}
	now := time.Now()
	for i := range c.lits {
		l := &c.lits[i]
		switch kind {
		case aText:
			switch {
			case l.kind == litNum && ordering:
				return lx.errAt(l.col, "%s is text; compare it with a quoted value ('%s') or use = != IN LIKE", name, l.str)
			case l.kind == litNum, l.kind == litBool:
				l.kind = litStr // compare the spelling: tags.n = 3 means '3'
			}
			if f.ns == nsAttr && f.attr.name == "status" && c.op != "like" {
				if err := checkStatus(l.str); err != nil {
					return lx.errAt(l.col, "%s", err.Error())
				}
			}
		case aInt:
			switch {
			case l.kind == litNum:
			case l.kind == litStr && l.numeric:
				l.kind = litNum
			default:
				return lx.errAt(l.col, "%s is a number; %s is not", name, literalText(*l))
			}
		case aTime:
			switch {
			case l.kind == litNum:
			case l.kind == litStr:
				t, ok := parseTimeLiteral(l.str, now)
				if !ok {
					return lx.errAt(l.col, "%s needs a time: '2026-01-02', '2026-01-02T15:04:05Z', '-24h' or '-7d' (before now), or unix seconds; %s is not one",
						name, literalText(*l))
				}
				l.kind, l.num = litNum, t
			default:
				return lx.errAt(l.col, "%s is a time; %s is not", name, literalText(*l))
			}
		}
	}
	return nil
}

func kindName(k attrKind) string {
	switch k {
	case aInt:
		return "number"
	case aTime:
		return "time"
	}
	return "text"
}

func literalText(l literal) string {
	if l.kind == litStr {
		return clip(quoteSQL(l.str), 40)
	}
	return l.str
}

// timeLayouts are the date forms a time literal may take; without a zone
// they are UTC.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"}

// parseTimeLiteral reads a date, or a negative duration meaning that long
// before now ("-24h", "-90m", "-7d"), as unix seconds. "Now" is when the
// filter is parsed.
func parseTimeLiteral(s string, now time.Time) (float64, bool) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		if days, ok := strings.CutSuffix(rest, "d"); ok {
			n, err := strconv.ParseFloat(days, 64)
			if err != nil || n < 0 || n > 1e6 || math.IsNaN(n) {
				return 0, false
			}
			return toUnix(now) - n*86400, true
		}
		d, err := time.ParseDuration(rest)
		if err != nil || d < 0 {
			return 0, false
		}
		return toUnix(now.Add(-d)), true
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			// Not toUnix: UnixNano overflows past the year 2262.
			return float64(t.Unix()) + float64(t.Nanosecond())/1e9, true
		}
	}
	return 0, false
}
