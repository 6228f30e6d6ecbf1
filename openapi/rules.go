package openapi

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
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

type rule struct{ name, param string }

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

// aliases expands the validator's built-in aliases that have a schema
// form.
func aliases(name string) (string, bool) {
	switch name {
	case "iscolor":
		return "hexcolor|rgb|rgba|hsl|hsla", true
	case "ip":
		return "ipv4|ipv6", true
	}
	return "", false
}

// parseTag reads a validate tag the way go-playground/validator does:
// rules separated by commas, alternatives by "|", parameters after "=",
// with 0x2C and 0x7C standing for a literal comma and bar.
func parseTag(tag string) *level {
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
				l.keys = parseTag(strings.Join(rest[1:end], ","))
				rest = rest[min(end+1, len(rest)):]
			}
			l.dive = parseTag(strings.Join(rest, ","))
			return l
		default:
			if expanded, ok := aliases(p); ok {
				p = expanded
			}
			var group []rule
			for _, alt := range strings.Split(p, "|") {
				name, param, _ := strings.Cut(alt, "=")
				param = strings.NewReplacer("0x2C", ",", "0x7C", "|").Replace(param)
				group = append(group, rule{name: name, param: param})
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
		if len(group) == 1 && group[0].name == "required" {
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
			s.not = &schema{hasConst: true, constant: number("0")}
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

// applyRule narrows s by one rule and reports whether it could.
func applyRule(s *schema, kind string, r rule) bool {
	if kind == "time" {
		return false // time rules compare instants, which a string schema cannot
	}
	switch r.name {
	case "isdefault":
		s.hasConst, s.constant = true, zeroOf(kind)
		return zeroOf(kind) != nil
	case "oneof":
		return applyOneOf(s, kind, r.param)
	case "eq", "ne":
		if kind == "string" || kind == "integer" || kind == "number" || kind == "boolean" {
			v, ok := literal(kind, r.param)
			if !ok {
				return false
			}
			c := &schema{hasConst: true, constant: v}
			if r.name == "eq" {
				s.hasConst, s.constant = true, v
			} else if s.not == nil {
				s.not = c
			} else {
				return false
			}
			return true
		}
		return applySize(s, kind, r) // eq and ne on arrays and maps compare lengths
	case "len", "min", "max", "gte", "lte", "gt", "lt":
		if kind == "integer" || kind == "number" {
			return applyBound(s, r)
		}
		return applySize(s, kind, r)
	case "unique":
		if kind == "array" && r.param == "" {
			s.uniqueItems = true
			return true
		}
		return false
	}
	if kind != "string" {
		return false
	}
	return applyStringRule(s, r)
}

// applyStringRule expresses the string rules: formats, patterns, prefixes.
func applyStringRule(s *schema, r rule) bool {
	switch r.name {
	case "startswith":
		addPattern(s, "^"+regexp.QuoteMeta(r.param))
	case "endswith":
		addPattern(s, regexp.QuoteMeta(r.param)+"$")
	case "contains":
		addPattern(s, regexp.QuoteMeta(r.param))
	case "json":
		s.contentMedia = "application/json"
	case "boolean":
		// strconv.ParseBool's spellings.
		s.enum = []any{"1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"}
	case "datetime":
		switch r.param {
		case "2006-01-02T15:04:05Z07:00":
			s.format = "date-time"
		case "2006-01-02":
			s.format = "date"
		default:
			return false
		}
	default:
		format, pattern, ok := stringFormat(r.name)
		if !ok || (format != "" && s.format != "" && s.format != format) {
			return false
		}
		if format != "" {
			s.format = format
		}
		if pattern != "" {
			addPattern(s, pattern)
		}
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

// splitParams splits a oneof parameter as the validator does: words, or
// 'quoted words with spaces'.
func splitParams(param string) []string {
	words := regexp.MustCompile(`'[^']*'|\S+`).FindAllString(param, -1)
	for i, w := range words {
		words[i] = strings.ReplaceAll(w, "'", "")
	}
	return words
}

func applyOneOf(s *schema, kind, param string) bool {
	var values []any
	for _, w := range splitParams(param) {
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
		return number(param), true
	case "boolean":
		b, err := strconv.ParseBool(param)
		return b, err == nil
	}
	return nil, false
}

// applyBound expresses a comparison of a number's value.
func applyBound(s *schema, r rule) bool {
	b, ok := newBound(r.param)
	if !ok {
		return false
	}
	switch r.name {
	case "len":
		s.hasConst, s.constant = true, b.lit
	case "min", "gte":
		raise(&s.minimum, b)
	case "max", "lte":
		lower(&s.maximum, b)
	case "gt":
		raise(&s.exclusiveMinimum, b)
	case "lt":
		lower(&s.exclusiveMaximum, b)
	}
	return true
}

// applySize expresses a comparison of a length: characters of a string
// (the validator counts runes, as JSON Schema counts code points), items
// of an array, members of an object.
func applySize(s *schema, kind string, r rule) bool {
	n, err := strconv.Atoi(r.param)
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
	switch r.name {
	case "len", "eq":
		atLeast(lo, n)
		atMost(hi, n)
	case "min", "gte":
		atLeast(lo, n)
	case "max", "lte":
		atMost(hi, n)
	case "gt":
		atLeast(lo, n+1)
	case "lt":
		if n == 0 {
			return false
		}
		atMost(hi, n-1)
	default: // ne on a length
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
