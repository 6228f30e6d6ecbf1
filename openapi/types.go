package openapi

import (
	"encoding"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/pinionkit/pinion/internal/rules"
)

// form says which side of the wire a schema describes. The server decodes
// a missing member as its zero value and then validates, so what a client
// must send differs from what the server always sends.
type form int

const (
	// asRead is a document as the server sends it: every member without
	// omitempty or omitzero in its json tag is always present.
	asRead form = iota
	// asInput is a whole document or action input as a client sends it:
	// a member is required when its zero value fails validation, since
	// leaving it out means sending the zero value.
	asInput
	// asPatch is an RFC 7396 merge patch: nothing is required, objects
	// are patched member by member, arrays are replaced whole, and null
	// removes a member (resetting it to its zero value) wherever that
	// zero value would pass validation.
	asPatch
)

func (f form) suffix() string {
	switch f {
	case asInput:
		return "Input"
	case asPatch:
		return "Patch"
	}
	return ""
}

// builder turns Go types and their validate tags into component schemas.
type builder struct {
	names   *registry
	schemas map[string]*schema
	built   map[typeKey]string
	// rules is the topic registry, asked for each rule's catalogue entry
	// (its JSON Schema form) and whether a zero value passes a field's
	// rules, custom rules (topic.WithRule) included: the schema says what
	// the server's own validator checks.
	rules ruleSource
}

// ruleSource is what the generator asks the topic registry (*topic.Set)
// about validation.
type ruleSource interface {
	LookupRule(name string) (rules.Rule, bool)
	ZeroValid(t reflect.Type, tag string) bool
}

type typeKey struct {
	topic string
	t     reflect.Type
	form  form
}

// scope is the topic a schema is built for: components are per topic, so
// that two topics may use types of the same name, and are named after it.
type scope struct {
	topic  string
	prefix string // the topic's name as an identifier: AppSettings
}

func newBuilder(names *registry, rs ruleSource) *builder {
	return &builder{
		names:   names,
		schemas: make(map[string]*schema),
		built:   make(map[typeKey]string),
		rules:   rs,
	}
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	durationType = reflect.TypeFor[time.Duration]()
)

// component returns a reference to the schema of struct type t in form f,
// building it under name (made unique) the first time.
func (b *builder) component(sc scope, t reflect.Type, f form, name, description string) *schema {
	key := typeKey{sc.topic, t, f}
	if got, ok := b.built[key]; ok {
		return ref(got)
	}
	name = b.names.claim(name)
	b.built[key] = name // before the fields, so that recursive types end
	s := typed("object")
	s.description = description
	s.closed = true
	base := strings.TrimSuffix(name, f.suffix())
	for _, fd := range jsonFields(t) {
		if fd.unknown {
			s.closed = false // a field with json's unknown option takes any other member
			continue
		}
		ps, required := b.property(sc, base, fd, f)
		s.properties = append(s.properties, property{name: fd.name, schema: ps})
		if required {
			s.required = append(s.required, fd.name)
		}
	}
	b.schemas[name] = s
	return ref(name)
}

// nestedName names the component of a struct type met inside a topic:
// the Go type name under the topic's prefix, or hint for an anonymous
// struct.
func nestedName(prefix string, t reflect.Type, hint string) string {
	name := goTypeName(t.Name())
	if name == "" {
		return hint
	}
	if !strings.HasPrefix(name, prefix) {
		name = prefix + name
	}
	return name
}

// property describes one member of a struct in form f and reports
// whether the member is required in that form.
func (b *builder) property(sc scope, owner string, fd field, f form) (*schema, bool) {
	l := parseTag(fd.sf.Tag.Get("validate"), b.rules.LookupRule)
	s, unexpressed := b.value(sc, owner+pascal(fd.name), fd.sf.Type, l, f)
	if fd.asString {
		s, unexpressed = typed("string"), []string{"a number or boolean written as a JSON string"}
	}
	zeroPasses := b.zeroPasses(fd.sf.Type, l)
	required := false
	switch f {
	case asRead:
		required = !fd.omitEmpty
	case asInput:
		required = !zeroPasses
	case asPatch:
		if zeroPasses {
			s = s.allowNull()
		}
	}
	desc := fd.sf.Tag.Get("doc")
	if len(unexpressed) > 0 {
		desc = strings.TrimSpace(desc + " The server also checks: " + strings.Join(unexpressed, ", ") + ".")
	}
	if desc != "" {
		s.description = desc // every call of value builds a fresh schema
	}
	return s, required
}

// value describes a value of type t under the rules of l.
func (b *builder) value(sc scope, hint string, t reflect.Type, l *level, f form) (*schema, []string) {
	if l.skip {
		l = &level{}
	}
	switch {
	case t == timeType:
		s := typed("string")
		s.format = "date-time"
		return b.finish(s, "time", l)
	case t == durationType:
		return &schema{}, []string{"a duration in the form its json format option gives"}
	case implements(t, reflect.TypeFor[json.Marshaler]()) || implements(t, reflect.TypeFor[jsonv2.MarshalerTo]()):
		return &schema{}, l.names() // the type writes its own JSON
	case implements(t, reflect.TypeFor[encoding.TextMarshaler]()):
		return b.finish(typed("string"), "string", l)
	}
	switch t.Kind() {
	case reflect.Pointer:
		// The rules apply to the value pointed to, in full, except that
		// required and omitempty are about nil, which the null below
		// admits or not.
		inner := *l
		inner.omitEmpty = false
		inner.groups = slices.DeleteFunc(slices.Clone(l.groups), func(g []rule) bool {
			return len(g) == 1 && g[0].name == "required"
		})
		s, unexpressed := b.value(sc, hint, t.Elem(), &inner, f)
		if b.zeroPasses(t, l) {
			s = s.allowNull()
		}
		return s, unexpressed
	case reflect.Slice, reflect.Array:
		return b.array(sc, hint, t, l, f)
	case reflect.Map:
		return b.mapping(sc, hint, t, l, f)
	case reflect.Struct:
		return b.component(sc, t, f, nestedName(sc.prefix, t, hint)+f.suffix(), ""), ruleNames(l, "required")
	case reflect.String:
		return b.finish(typed("string"), "string", l)
	case reflect.Bool:
		return b.finish(typed("boolean"), "boolean", l)
	case reflect.Float32, reflect.Float64:
		return b.finish(typed("number"), "number", l)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return b.finish(integer(t), "integer", l)
	}
	return &schema{}, l.names() // an interface: any JSON value
}

// finish applies l to s and, for omitempty, admits the zero value.
func (b *builder) finish(s *schema, kind string, l *level) (*schema, []string) {
	unexpressed := apply(s, kind, l)
	if l.omitEmpty {
		s = relax(s, kind)
	}
	return s, unexpressed
}

// integer is the schema of an integer type, with the bounds of the type
// where they are narrower than 64 bits or exclude negative numbers.
func integer(t reflect.Type) *schema {
	s := typed("integer")
	switch t.Kind() {
	case reflect.Int8:
		s.minimum, s.maximum = mustBound("-128"), mustBound("127")
	case reflect.Int16:
		s.minimum, s.maximum = mustBound("-32768"), mustBound("32767")
	case reflect.Int32:
		s.minimum, s.maximum = mustBound("-2147483648"), mustBound("2147483647")
	case reflect.Uint8:
		s.minimum, s.maximum = mustBound("0"), mustBound("255")
	case reflect.Uint16:
		s.minimum, s.maximum = mustBound("0"), mustBound("65535")
	case reflect.Uint32:
		s.minimum, s.maximum = mustBound("0"), mustBound("4294967295")
	case reflect.Uint, reflect.Uint64, reflect.Uintptr:
		s.minimum = mustBound("0")
	}
	return s
}

func mustBound(lit string) *bound {
	b, _ := newBound(lit) // literals of this file
	return b
}

// array describes a slice or an array; a []byte is base64 text.
func (b *builder) array(sc scope, hint string, t reflect.Type, l *level, f form) (*schema, []string) {
	if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
		s := typed("string")
		s.contentEncoding = "base64"
		return s, ruleNames(l, "required", "omitempty")
	}
	if f == asPatch {
		f = asInput // a merge patch replaces an array whole
	}
	el := l.dive
	if el == nil {
		el = &level{}
	}
	items, unexpressed := b.value(sc, hint+"Item", t.Elem(), el, f)
	s := typed("array")
	s.items = items
	if t.Kind() == reflect.Array {
		s.minItems, s.maxItems = intPtr(t.Len()), intPtr(t.Len())
	}
	s, more := b.finish(s, "array", l)
	return s, append(more, prefixed("each item: ", unexpressed)...)
}

// mapping describes a map: a JSON object with any member names.
func (b *builder) mapping(sc scope, hint string, t reflect.Type, l *level, f form) (*schema, []string) {
	el := l.dive
	if el == nil {
		el = &level{}
	}
	values, unexpressed := b.value(sc, hint+"Value", t.Elem(), el, f)
	if f == asPatch {
		values = values.allowNull() // null removes the entry
	}
	s := typed("object")
	s.additionalProperties = values
	unexpressed = prefixed("each value: ", unexpressed)
	names := &schema{}
	switch t.Key().Kind() {
	case reflect.String:
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		names.pattern = `^-?(0|[1-9][0-9]*)$`
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		names.pattern = `^(0|[1-9][0-9]*)$`
	}
	if l.keys != nil {
		if t.Key().Kind() == reflect.String {
			unexpressed = append(unexpressed, prefixed("each key: ", apply(names, "string", l.keys))...)
		} else {
			unexpressed = append(unexpressed, prefixed("each key: ", l.keys.names())...)
		}
	}
	if !reflect.DeepEqual(names, &schema{}) {
		s.propertyNames = names
	}
	s, more := b.finish(s, "object", l)
	return s, append(more, unexpressed...)
}

// zeroPasses reports whether the zero value of t passes the rules of l:
// whether a client may leave the member out, and whether null (which
// decodes to the zero value) may stand for it.
func (b *builder) zeroPasses(t reflect.Type, l *level) bool {
	if l.skip {
		return true
	}
	if t.Kind() == reflect.Struct && t != timeType && l.has("required") {
		return false
	}
	return b.rules.ZeroValid(t, l.raw)
}

// names lists every rule of the level, for a type whose schema cannot
// take any.
func (l *level) names() []string { return ruleNames(l) }

// ruleNames lists the rules of l other than those named in except.
func ruleNames(l *level, except ...string) []string {
	var out []string
	for _, g := range l.groups {
		if len(g) == 1 && slices.Contains(except, g[0].name) {
			continue
		}
		parts := make([]string, len(g))
		for i, r := range g {
			parts[i] = r.String()
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out
}

func prefixed(prefix string, rules []string) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = prefix + r
	}
	return out
}

func implements(t, iface reflect.Type) bool {
	return t.Implements(iface) || (t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(iface))
}
