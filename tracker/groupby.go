package tracker

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// paramsExceptRE matches "params.*" with an optional "except k1, k2".
var paramsExceptRE = regexp.MustCompile(`(?i)^\s*params?\.\*\s*(?:except\s+(.+?))?\s*$`)

// ParamsExcept parses a group-by of every param but some, as W&B and Aim
// users asked for: "params.* except seed" or "params.* except seed,
// data.limit" (keys may also be written params.seed). ok is false when by
// is not of that form.
func ParamsExcept(by string) (except []string, ok bool, err error) {
	m := paramsExceptRE.FindStringSubmatch(by)
	if m == nil {
		if strings.Contains(by, "*") {
			return nil, false, fmt.Errorf("group by %q: the only wildcard is params.* (optionally: params.* except seed, other)", by)
		}
		return nil, false, nil
	}
	for _, k := range strings.Split(m[1], ",") {
		k = strings.TrimSpace(k)
		k = strings.TrimPrefix(strings.TrimPrefix(k, "params."), "param.")
		if k == "" && m[1] != "" {
			return nil, true, fmt.Errorf("group by %q: an empty key after except (write params.* except seed, other)", by)
		}
		if k != "" {
			except = append(except, k)
		}
	}
	return except, true, nil
}

// GroupByParams groups the query's runs by the values of all their params
// except the keys in except (typically the seed), and summarizes the
// numeric field metric per group as Group does. A group's Label (and
// Value) lists only the params whose values differ between groups, as
// "k=v k=v" in key order; params every run shares are left out of it.
// Groups sort by those values (numbers numerically).
func (q *Query) GroupByParams(except []string, metric string) ([]GroupStat, error) {
	if q.err != nil {
		return nil, q.err
	}
	mF, err := numericField(metric)
	if err != nil {
		return nil, err
	}
	rows, err := q.All()
	if err != nil {
		return nil, err
	}
	skip := map[string]bool{}
	for _, k := range except {
		skip[k] = true
	}
	// The keys in play and, per key, whether its value varies.
	values := map[string]map[groupKey]bool{}
	for _, r := range rows {
		for k, v := range r.Params {
			if skip[k] {
				continue
			}
			if values[k] == nil {
				values[k] = map[groupKey]bool{}
			}
			values[k][keyOf(v)] = true
		}
	}
	var varying []string
	for k, vs := range values {
		missing := false
		for _, r := range rows {
			if _, ok := r.Params[k]; !ok && !skip[k] {
				missing = true
			}
		}
		if len(vs) > 1 || missing {
			varying = append(varying, k)
		}
	}
	sort.Strings(varying)
	type acc struct {
		groupAcc
		keys []groupKey
	}
	groups := map[string]*acc{}
	for _, r := range rows {
		parts := make([]string, len(varying))
		keys := make([]groupKey, len(varying))
		for i, k := range varying {
			v, ok := r.Params[k]
			if !ok {
				v = nil
			}
			parts[i] = k + "=" + formatValue(v)
			if !ok {
				parts[i] = k + "=-"
			}
			keys[i] = keyOf(v)
		}
		label := strings.Join(parts, " ")
		a := groups[label]
		if a == nil {
			a = &acc{keys: keys, groupAcc: groupAcc{stat: GroupStat{Value: label, Label: label}}}
			groups[label] = a
		}
		a.add(r, mF)
	}
	accs := make([]*acc, 0, len(groups))
	for _, a := range groups {
		accs = append(accs, a)
	}
	sort.Slice(accs, func(i, j int) bool {
		for k := range accs[i].keys {
			if accs[i].keys[k] != accs[j].keys[k] {
				return accs[i].keys[k].less(accs[j].keys[k])
			}
		}
		return false
	})
	out := make([]GroupStat, 0, len(accs))
	for _, a := range accs {
		out = append(out, a.summary())
	}
	return out, nil
}
