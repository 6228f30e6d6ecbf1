package jsonschema

import (
	"reflect"
	"regexp"
	"slices"
	"strconv"
)

// schema is a JSON Schema (2020-12, as OpenAPI 3.1 uses it) under
// construction. Rules are applied to it one at a time, and it is rendered
// once, with its keywords in a fixed order.
type schema struct {
	ref         string // a component name; the other keywords then only annotate
	description string
	types       []string // "string", "integer", ..., "null"

	hasConst bool
	constant any // string, number or bool
	enum     []any
	not      *schema

	format, pattern string
	patterns        []string // further patterns, rendered through allOf
	contentEncoding string
	contentMedia    string

	minimum, maximum                   *bound
	exclusiveMinimum, exclusiveMaximum *bound
	minLength, maxLength               *int
	minItems, maxItems                 *int
	minProperties, maxProperties       *int
	uniqueItems                        bool

	items                *schema
	properties           []property
	required             []string
	additionalProperties *schema // nil: any member; see closed
	closed               bool    // additionalProperties: false
	propertyNames        *schema

	anyOf []*schema

	// defaultValue is the JSON Schema default: a value built from
	// *object, []any, string, number, bool and null (see jsonValue), or
	// nil for none.
	defaultValue any
}

type property struct {
	name   string
	schema *schema
}

// bound is a numeric limit: its literal for the document and its value
// for comparisons.
type bound struct {
	lit Number
	val float64
}

func newBound(lit string) (*bound, bool) {
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		return nil, false
	}
	return &bound{lit: Number(lit), val: f}, true
}

func ref(name string) *schema { return &schema{ref: name} }

func typed(types ...string) *schema { return &schema{types: types} }

func intPtr(n int) *int { return &n }

// has reports whether s allows values of JSON type t.
func (s *schema) has(t string) bool { return slices.Contains(s.types, t) }

// allowNull makes s admit null too. A schema with only a type gains
// "null" in its type list; any other (a $ref, an enum) becomes
// anyOf: [s, {type: null}], which generators turn into `T | null`.
func (s *schema) allowNull() *schema {
	if s.has("null") || slices.ContainsFunc(s.anyOf, func(alt *schema) bool { return alt.has("null") }) ||
		reflect.DeepEqual(*s, schema{description: s.description}) { // {} admits anything
		return s
	}
	if s.ref == "" && !s.hasConst && s.enum == nil && s.anyOf == nil && len(s.types) > 0 {
		s.types = append(s.types, "null")
		return s
	}
	if s.anyOf != nil && reflect.DeepEqual(*s, schema{description: s.description, anyOf: s.anyOf}) {
		return &schema{description: s.description, anyOf: append(slices.Clone(s.anyOf), typed("null"))}
	}
	inner := *s
	inner.description = ""
	return &schema{description: s.description, anyOf: []*schema{&inner, typed("null")}}
}

// admitsZero reports whether the zero value of a Go value described by s
// (which is of JSON type kind) passes s: "" for a string, 0 for a number,
// false for a boolean, an empty array or object. A $ref is assumed to
// admit it: components are checked on their own.
func (s *schema) admitsZero(kind string) bool {
	if s.ref != "" {
		return true
	}
	if s.anyOf != nil {
		for _, alt := range s.anyOf {
			if alt.admitsZero(kind) {
				return true
			}
		}
		return false
	}
	zero := zeroOf(kind)
	if s.hasConst && s.constant != zero {
		return false
	}
	if s.enum != nil && !slices.Contains(s.enum, zero) {
		return false
	}
	if s.not != nil && s.not.hasConst && s.not.constant == zero {
		return false
	}
	switch kind {
	case "string":
		if s.format != "" || (s.minLength != nil && *s.minLength > 0) {
			return false
		}
		for _, p := range append([]string{s.pattern}, s.patterns...) {
			if p != "" && !matchesEmpty(p) {
				return false
			}
		}
	case "integer", "number":
		if (s.minimum != nil && s.minimum.val > 0) || (s.maximum != nil && s.maximum.val < 0) ||
			(s.exclusiveMinimum != nil && s.exclusiveMinimum.val >= 0) || (s.exclusiveMaximum != nil && s.exclusiveMaximum.val <= 0) {
			return false
		}
	case "array":
		return s.minItems == nil || *s.minItems == 0
	case "object":
		return s.minProperties == nil || *s.minProperties == 0
	}
	return true
}

// zeroOf returns the JSON form of a Go zero value of the given JSON type,
// as schema constants hold it.
func zeroOf(kind string) any {
	switch kind {
	case "string":
		return ""
	case "integer", "number":
		return Number("0")
	case "boolean":
		return false
	}
	return nil
}

// matchesEmpty reports whether pattern matches "". Every pattern this
// package writes is valid in both Go's and ECMAScript's syntax.
func matchesEmpty(pattern string) bool {
	re, err := regexp.Compile(pattern)
	return err == nil && re.MatchString("")
}

// render turns s into an Object, with keywords in a fixed order.
func (s *schema) render() *Object {
	o := NewObject()
	if s.ref != "" {
		o.Set("$ref", "#/components/schemas/"+s.ref)
	}
	o.Opt("description", s.description)
	switch len(s.types) {
	case 0:
	case 1:
		o.Set("type", s.types[0])
	default:
		o.Set("type", s.types)
	}
	if s.hasConst {
		o.Set("const", s.constant)
	}
	if s.enum != nil {
		o.Set("enum", s.enum)
	}
	o.Opt("format", s.format)
	o.Opt("pattern", s.pattern)
	o.Opt("contentEncoding", s.contentEncoding)
	o.Opt("contentMediaType", s.contentMedia)
	setBound(o, "minimum", s.minimum)
	setBound(o, "exclusiveMinimum", s.exclusiveMinimum)
	setBound(o, "maximum", s.maximum)
	setBound(o, "exclusiveMaximum", s.exclusiveMaximum)
	setInt(o, "minLength", s.minLength)
	setInt(o, "maxLength", s.maxLength)
	if s.items != nil {
		o.Set("items", s.items.render())
	}
	setInt(o, "minItems", s.minItems)
	setInt(o, "maxItems", s.maxItems)
	if s.uniqueItems {
		o.Set("uniqueItems", true)
	}
	if len(s.required) > 0 {
		o.Set("required", s.required)
	}
	if s.properties != nil {
		props := NewObject()
		for _, p := range s.properties {
			props.Set(p.name, p.schema.render())
		}
		o.Set("properties", props)
	}
	switch {
	case s.closed:
		o.Set("additionalProperties", false)
	case s.additionalProperties != nil:
		o.Set("additionalProperties", s.additionalProperties.render())
	}
	if s.propertyNames != nil {
		o.Set("propertyNames", s.propertyNames.render())
	}
	setInt(o, "minProperties", s.minProperties)
	setInt(o, "maxProperties", s.maxProperties)
	if s.anyOf != nil {
		o.Set("anyOf", renderAll(s.anyOf))
	}
	if len(s.patterns) > 0 {
		// One schema holds one pattern; further ones are conjoined. Each
		// part repeats the type so that generators keep it.
		var parts []*schema
		for _, p := range s.patterns {
			parts = append(parts, &schema{types: []string{"string"}, pattern: p})
		}
		o.Set("allOf", renderAll(parts))
	}
	if s.not != nil {
		o.Set("not", s.not.render())
	}
	if s.defaultValue != nil {
		o.Set("default", s.defaultValue)
	}
	return o
}

func renderAll(ss []*schema) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s.render()
	}
	return out
}

func setBound(o *Object, key string, b *bound) {
	if b != nil {
		o.Set(key, b.lit)
	}
}

func setInt(o *Object, key string, n *int) {
	if n != nil {
		o.Set(key, *n)
	}
}
