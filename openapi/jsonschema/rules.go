package jsonschema

import (
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pinionkit/pinion/internal/rules"
)

// level is the part of a validate tag that applies to one value: a field
// itself or, after dive, each of its elements.
type level struct {
	raw       string   // the tag as the validator reads it for this value
	groups    [][]rule // each group must pass; a group of several rules is an a|b choice
	omitEmpty bool     // omitempty or omitzero: the rules apply only to a non-zero value
	skip      bool     // "-": the validator ignores the field
	dive      *level   // rules for each element, after dive
	keys      *level   // rules for each map key, between keys and endkeys
}

// rule is one rule of a tag with its catalogue entry, as Rules knows it.
type rule struct {
	name, param string
	info        rules.Rule // Unexpressible for a rule Rules does not know
}

// lookup asks Rules for a rule's catalogue entry.
type lookup func(name string) (rules.Rule, bool)

func (r rule) String() string {
	if r.param == "" {
		return r.name
	}
	return r.name + "=" + r.param
}

// has reports whether the level has a rule of that name on its own.
func (l *level) has(name string) bool {
	return slices.ContainsFunc(l.groups, func(g []rule) bool { return len(g) == 1 && g[0].name == name })
}

// parseTag reads a validate tag the way go-playground/validator does:
// rules separated by commas, alternatives by "|", parameters after "=",
// with 0x2C and 0x7C standing for a literal comma and bar. Each rule
// comes with its entry in the registry's catalogue; an alias stands for
// the rules it expands to.
func parseTag(tag string, find lookup) *level {
	l := &level{raw: tag}
	parts := strings.Split(tag, ",")
	for i := 0; i < len(parts); i++ {
		switch p := parts[i]; p {
		case "":
		case "-":
			l.skip = true
		case "omitempty", "omitzero":
			l.omitEmpty = true
		case "omitnil", "structonly", "nostructlevel":
			// omitnil only matters for pointers, whose nil the
			// zero-value check asks the validator about.
		case "dive":
			rest := parts[i+1:]
			if len(rest) > 0 && rest[0] == "keys" {
				end := slices.Index(rest, "endkeys")
				if end < 0 {
					end = len(rest)
				}
				l.keys = parseTag(strings.Join(rest[1:end], ","), find)
				rest = rest[min(end+1, len(rest)):]
			}
			l.dive = parseTag(strings.Join(rest, ","), find)
			return l
		default:
			if r, ok := find(p); ok && r.Form == rules.Alias {
				p = r.Expand
			}
			var group []rule
			for _, alt := range strings.Split(p, "|") {
				name, param, _ := strings.Cut(alt, "=")
				param = strings.NewReplacer("0x2C", ",", "0x7C", "|").Replace(param)
				info, _ := find(name)
				group = append(group, rule{name: name, param: param, info: info})
			}
			l.groups = append(l.groups, group)
		}
	}
	return l
}

// apply narrows s, a schema of JSON type kind ("string", "integer",
// "number", "boolean", "array", "object", or "time" for a date-time
// string), by the rules of l. It returns the rules JSON Schema cannot
// express, which the caller mentions in the description instead.
func apply(s *schema, kind string, l *level) (unexpressed []string) {
	if l.skip {
		return nil
	}
	required := false
	for _, group := range l.groups {
		if len(group) == 1 && group[0].info.Form == rules.NonZero {
			required = true
			continue
		}
		if len(group) == 1 {
			if !applyRule(s, kind, group[0]) {
				unexpressed = append(unexpressed, group[0].String())
			}
			continue
		}
		if !applyChoice(s, kind, group) {
			names := make([]string, len(group))
			for i, r := range group {
				names[i] = r.String()
			}
			unexpressed = append(unexpressed, strings.Join(names, "|"))
		}
	}
	if required && s.admitsZero(kind) {
		excludeZero(s, kind)
	}
	return unexpressed
}

// excludeZero expresses `required`, which fails on a zero value.
func excludeZero(s *schema, kind string) {
	switch kind {
	case "string":
		atLeast(&s.minLength, 1)
	case "integer", "number":
		if s.not == nil {
			s.not = &schema{hasConst: true, constant: Number("0")}
		}
	case "boolean":
		s.hasConst, s.constant = true, true
	case "time":
		if s.not == nil {
			s.not = &schema{hasConst: true, constant: "0001-01-01T00:00:00Z"}
		}
	}
	// Arrays, objects and pointers: `required` only rules out null, which
	// their schemas do not admit in the first place.
}

// applyChoice expresses a|b: every alternative must be expressible.
// Alternatives that are all patterns become one pattern; others become
// anyOf.
func applyChoice(s *schema, kind string, group []rule) bool {
	if s.anyOf != nil {
		return false
	}
	var alts []*schema
	var patterns []string
	for _, r := range group {
		alt := &schema{types: slices.DeleteFunc(slices.Clone(s.types), func(t string) bool { return t == "null" })}
		if !applyRule(alt, kind, r) {
			return false
		}
		if alt.pattern != "" && alt.format == "" && len(alt.patterns) == 0 && alt.minLength == nil && alt.maxLength == nil && alt.enum == nil {
			patterns = append(patterns, alt.pattern)
		}
		alts = append(alts, alt)
	}
	if len(patterns) == len(alts) {
		addPattern(s, strings.Join(patterns, "|"))
		return true
	}
	s.anyOf = alts
	return true
}

// applyRule narrows s by one rule, in the form the catalogue gives it,
// and reports whether it could.
func applyRule(s *schema, kind string, r rule) bool {
	if kind == "time" {
		return false // time rules compare instants, which a string schema cannot
	}
	switch f := r.info.Form; f {
	case rules.Zero:
		s.hasConst, s.constant = true, zeroOf(kind)
		return zeroOf(kind) != nil
	case rules.OneOf:
		return applyOneOf(s, kind, r.param)
	case rules.AtLeast, rules.AtMost, rules.Above, rules.Below, rules.Exactly, rules.NotEqual:
		switch r.info.Size.Of(reflectKind(kind)) {
		case rules.Value:
			return applyValue(s, kind, f, r.param)
		case rules.Length, rules.Count:
			return applySize(s, kind, f, r.param)
		}
		return false
	case rules.Unique:
		if kind == "array" && r.param == "" {
			s.uniqueItems = true
			return true
		}
		return false
	case rules.Fixed, rules.Prefix, rules.Suffix, rules.Substring, rules.Layout, rules.JSONText, rules.BoolText:
		return kind == "string" && applyStringRule(s, r)
	}
	return false
}

// reflectKind is a Go kind of values of a JSON type, for the catalogue's
// size semantics.
func reflectKind(kind string) reflect.Kind {
	switch kind {
	case "string":
		return reflect.String
	case "integer":
		return reflect.Int
	case "number":
		return reflect.Float64
	case "boolean":
		return reflect.Bool
	case "array":
		return reflect.Slice
	case "object":
		return reflect.Map
	}
	return reflect.Invalid
}

// applyValue expresses a comparison of a value with the parameter.
func applyValue(s *schema, kind string, f rules.Form, param string) bool {
	switch f {
	case rules.Exactly, rules.NotEqual:
		v, ok := literal(kind, param)
		if !ok {
			return false
		}
		if f == rules.Exactly {
			s.hasConst, s.constant = true, v
		} else if s.not == nil {
			s.not = &schema{hasConst: true, constant: v}
		} else {
			return false
		}
		return true
	}
	b, ok := newBound(param)
	if !ok || (kind != "integer" && kind != "number") {
		return false
	}
	switch f {
	case rules.AtLeast:
		raise(&s.minimum, b)
	case rules.AtMost:
		lower(&s.maximum, b)
	case rules.Above:
		raise(&s.exclusiveMinimum, b)
	case rules.Below:
		lower(&s.exclusiveMaximum, b)
	}
	return true
}

// applyStringRule expresses the string rules: formats, patterns, prefixes.
func applyStringRule(s *schema, r rule) bool {
	switch r.info.Form {
	case rules.Prefix:
		addPattern(s, "^"+regexp.QuoteMeta(r.param))
	case rules.Suffix:
		addPattern(s, regexp.QuoteMeta(r.param)+"$")
	case rules.Substring:
		addPattern(s, regexp.QuoteMeta(r.param))
	case rules.JSONText:
		s.contentMedia = "application/json"
	case rules.BoolText:
		// strconv.ParseBool's spellings.
		s.enum = []any{"1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"}
	case rules.Layout:
		switch r.param {
		case "2006-01-02T15:04:05Z07:00":
			s.format = "date-time"
		case "2006-01-02":
			s.format = "date"
		default:
			return false
		}
	case rules.Fixed:
		format, pattern := r.info.Format, r.info.Pattern
		if format != "" && s.format != "" && s.format != format {
			return false
		}
		if format != "" {
			s.format = format
		}
		if pattern != "" {
			addPattern(s, pattern)
		}
	default:
		return false
	}
	return true
}

func addPattern(s *schema, p string) {
	if s.pattern == "" {
		s.pattern = p
	} else {
		s.patterns = append(s.patterns, p)
	}
}

func applyOneOf(s *schema, kind, param string) bool {
	var values []any
	for _, w := range rules.Values(param) {
		v, ok := literal(kind, w)
		if !ok {
			return false
		}
		values = append(values, v)
	}
	if values == nil || s.enum != nil {
		return false
	}
	s.enum = values
	return true
}

// literal parses a rule parameter as a value of JSON type kind.
func literal(kind, param string) (any, bool) {
	switch kind {
	case "string":
		return param, true
	case "integer", "number":
		if _, ok := newBound(param); !ok {
			return nil, false
		}
		return Number(param), true
	case "boolean":
		b, err := strconv.ParseBool(param)
		return b, err == nil
	}
	return nil, false
}

// applySize expresses a comparison of a length: characters of a string
// (the validator counts runes, as JSON Schema counts code points), items
// of an array, members of an object.
func applySize(s *schema, kind string, f rules.Form, param string) bool {
	n, err := strconv.Atoi(param)
	if err != nil || n < 0 {
		return false
	}
	var lo, hi **int
	switch kind {
	case "string":
		lo, hi = &s.minLength, &s.maxLength
	case "array":
		lo, hi = &s.minItems, &s.maxItems
	case "object":
		lo, hi = &s.minProperties, &s.maxProperties
	default:
		return false
	}
	switch f {
	case rules.Exactly:
		atLeast(lo, n)
		atMost(hi, n)
	case rules.AtLeast:
		atLeast(lo, n)
	case rules.AtMost:
		atMost(hi, n)
	case rules.Above:
		atLeast(lo, n+1)
	case rules.Below:
		if n == 0 {
			return false
		}
		atMost(hi, n-1)
	default: // NotEqual on a length
		return false
	}
	return true
}

func atLeast(p **int, n int) {
	if *p == nil || **p < n {
		*p = intPtr(n)
	}
}

func atMost(p **int, n int) {
	if *p == nil || **p > n {
		*p = intPtr(n)
	}
}

func raise(p **bound, b *bound) {
	if *p == nil || (*p).val < b.val {
		*p = b
	}
}

func lower(p **bound, b *bound) {
	if *p == nil || (*p).val > b.val {
		*p = b
	}
}

// relax makes s admit the zero value as well, for a field tagged
// omitempty: the validator skips its rules when the value is zero. An
// enum gains the zero value; anything else becomes anyOf: [zero, rules].
func relax(s *schema, kind string) *schema {
	if s.admitsZero(kind) {
		return s
	}
	if s.enum != nil {
		widened := *s
		widened.enum = append([]any{zeroOf(kind)}, s.enum...)
		if widened.admitsZero(kind) {
			return &widened
		}
	}
	// A string with one pattern admits "" by widening the pattern, not by
	// an anyOf of two string forms: several client generators (ogen)
	// refuse a union of two strings.
	if kind == "string" && s.pattern != "" && len(s.patterns) == 0 && s.format == "" && !s.hasConst &&
		s.enum == nil && s.not == nil && s.anyOf == nil && (s.minLength == nil || *s.minLength == 0) {
		widened := *s
		widened.pattern = emptyOr(s.pattern)
		return &widened
	}
	zero := &schema{types: []string{kind}}
	switch kind {
	case "string", "integer", "number", "boolean":
		zero.hasConst, zero.constant = true, zeroOf(kind)
	case "array":
		zero.maxItems = intPtr(0)
	case "object":
		zero.maxProperties = intPtr(0)
	default:
		return s
	}
	rules := *s
	rules.description = ""
	return &schema{description: s.description, anyOf: []*schema{zero, &rules}}
}

// emptyOr widens a pattern to also match "": ^[a-z]+$ becomes ^[a-z]*$,
// any other pattern p becomes ^$|p.
func emptyOr(p string) string {
	if body, ok := strings.CutPrefix(p, "^["); ok {
		if class, ok := strings.CutSuffix(body, "]+$"); ok && !strings.ContainsAny(class, "[]") {
			return "^[" + class + "]*$"
		}
	}
	return "^$|" + p
}
