package jsonschema

import (
	"encoding"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
)

// field is one member of a struct's JSON object.
type field struct {
	name      string
	sf        reflect.StructField
	omitEmpty bool // omitempty or omitzero that applies: the server may leave the member out
	asString  bool // the string option: a number or boolean written as a JSON string
	unknown   bool // the unknown option: the field collects every other member
	depth     int  // how deeply embedded the field is
}

// jsonFields lists the members of struct type t as the JSON encoder
// (go-json-experiment/json, which the topic package uses) writes them, in
// declaration order: named by their json tags, without fields tagged "-"
// or unexported, with the fields of embedded structs flattened in, and a
// shallower field winning over a deeper one of the same name. It follows
// the same rules as the topic package's decoder.
func jsonFields(t reflect.Type) []field {
	all := collectFields(t, 0)
	var out []field
	for _, c := range all {
		shallowest := slices.IndexFunc(all, func(o field) bool {
			return o.name == c.name && o.depth < c.depth
		}) < 0
		taken := slices.ContainsFunc(out, func(o field) bool { return o.name == c.name })
		if shallowest && !taken {
			out = append(out, c)
		}
	}
	return out
}

func collectFields(t reflect.Type, depth int) []field {
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" || (!sf.IsExported() && !sf.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		options := strings.Split(opts, ",")
		inner := sf.Type
		for inner.Kind() == reflect.Pointer {
			inner = inner.Elem()
		}
		if (sf.Anonymous && name == "" && inner.Kind() == reflect.Struct) ||
			slices.Contains(options, "embed") || slices.Contains(options, "inline") {
			out = append(out, collectFields(inner, depth+1)...)
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		out = append(out, field{
			name:      name,
			sf:        sf,
			depth:     depth,
			omitEmpty: slices.Contains(options, "omitzero") || (slices.Contains(options, "omitempty") && mayBeEmpty(sf.Type)),
			asString:  slices.Contains(options, "string"),
			unknown:   slices.Contains(options, "unknown"),
		})
	}
	return out
}

// mayBeEmpty reports whether a value of type t can encode as "", null, []
// or {}, which json's omitempty leaves out: a number or a boolean never
// does, so omitempty keeps it.
func mayBeEmpty(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return implements(t, reflect.TypeFor[json.Marshaler]()) || implements(t, reflect.TypeFor[encoding.TextMarshaler]())
	}
	return true
}
