package jsonschema

import (
	"encoding"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/pinionkit/pinion/internal/rules"
)

// Form says which side of the wire a schema describes. A server that
// decodes a missing member as its zero value and then validates needs a
// client to send less than it always sends itself.
type Form int

const (
	// Read is a value as the server sends it: every member without
	// omitempty or omitzero in its json tag is always present.
	Read Form = iota
	// Input is a whole value as a client sends it: a member is required
	// when its zero value fails validation, since leaving it out means
	// sending the zero value.
	Input
	// Patch is an RFC 7396 merge patch: nothing is required, objects
	// are patched member by member, arrays are replaced whole, and null
	// removes a member (resetting it to its zero value) wherever that
	// zero value would pass validation.
	Patch
)

func (f Form) suffix() string {
	switch f {
	case Input:
		return "Input"
	case Patch:
		return "Patch"
	}
	return ""
}

// Compiler turns Go types and their validate tags into named component
// schemas, and holds them until they are rendered.
type Compiler struct {
	names   *Names
	schemas map[string]*schema
	fixed   map[string]*Object // schemas added whole (Add)
	built   map[typeKey]string
	// rules is asked for each rule's catalogue entry (its JSON Schema
	// form) and whether a zero value passes a field's rules, custom rules
	// included: the schema says what the server's own validator checks.
	rules Rules
}

// Rules is what the compiler asks about validation: in Pinion, the topic
// registry (*topic.Set), which knows the rules registered on it too.
type Rules interface {
	// LookupRule returns the catalogue entry of a validate rule.
	LookupRule(name string) (rules.Rule, bool)
	// ZeroValid reports whether the zero value of t passes a validate
	// tag.
	ZeroValid(t reflect.Type, tag string) bool
}

type typeKey struct {
	scope string
	t     reflect.Type
	form  Form
}

// Scope is the namespace a type is compiled in. In Pinion it is a topic:
// components are per topic, so that two topics may use Go types of the
// same name, and nested components are named after it.
type Scope struct {
	// Name tells scopes apart: the topic's name.
	Name string
	// Prefix starts the names of nested components: the topic's name as
	// an identifier, such as AppSettings.
	Prefix string
}

// New returns a compiler that asks rs about rules and never names a
// component with one of the reserved names.
func New(rs Rules, reserved ...string) *Compiler {
	return &Compiler{
		names:   NewNames(reserved...),
		schemas: make(map[string]*schema),
		fixed:   make(map[string]*Object),
		built:   make(map[typeKey]string),
		rules:   rs,
	}
}

// Component compiles struct type t in form f, the first time it is asked
// for in scope sc, under name (made unique), and returns the component's
// name. Nested struct types become components of their own.
func (b *Compiler) Component(sc Scope, t reflect.Type, f Form, name, description string) string {
	return b.component(sc, t, f, name, description).ref
}

// Claim returns a unique component name for a schema added with Add: name,
// or name followed by the smallest number from 2 up that is free.
func (b *Compiler) Claim(name string) string { return b.names.Claim(name) }

// Add adds a schema written whole, such as one of a protocol's own, under
// a name that is reserved or claimed.
func (b *Compiler) Add(name string, s *Object) { b.fixed[name] = s }

// SetDefault gives a compiled component a JSON Schema default, a value in
// this package's form (see ParseValue).
func (b *Compiler) SetDefault(name string, v any) { b.schemas[name].defaultValue = v }

// Schemas renders every component, compiled and added, by name.
func (b *Compiler) Schemas() *Object {
	names := slices.Concat(slices.Collect(maps.Keys(b.schemas)), slices.Collect(maps.Keys(b.fixed)))
	slices.Sort(names)
	o := NewObject()
	for _, name := range names {
		if s, ok := b.fixed[name]; ok {
			o.Set(name, s)
			continue
		}
		o.Set(name, b.schemas[name].render())
	}
	return o
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	durationType = reflect.TypeFor[time.Duration]()
)

// component returns a reference to the schema of struct type t in form f,
// building it under name (made unique) the first time.
func (b *Compiler) component(sc Scope, t reflect.Type, f Form, name, description string) *schema {
	key := typeKey{sc.Name, t, f}
	if got, ok := b.built[key]; ok {
		return ref(got)
	}
	name = b.names.Claim(name)
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
func (b *Compiler) property(sc Scope, owner string, fd field, f Form) (*schema, bool) {
	l := parseTag(fd.sf.Tag.Get("validate"), b.rules.LookupRule)
	s, unexpressed := b.value(sc, owner+Pascal(fd.name), fd.sf.Type, l, f)
	if fd.asString {
		s, unexpressed = typed("string"), []string{"a number or boolean written as a JSON string"}
	}
	zeroPasses := b.zeroPasses(fd.sf.Type, l)
	required := false
	switch f {
	case Read:
		required = !fd.omitEmpty
	case Input:
		required = !zeroPasses
	case Patch:
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
func (b *Compiler) value(sc Scope, hint string, t reflect.Type, l *level, f Form) (*schema, []string) {
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
		return b.component(sc, t, f, nestedName(sc.Prefix, t, hint)+f.suffix(), ""), ruleNames(l, "required")
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
func (b *Compiler) finish(s *schema, kind string, l *level) (*schema, []string) {
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
func (b *Compiler) array(sc Scope, hint string, t reflect.Type, l *level, f Form) (*schema, []string) {
	if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
		s := typed("string")
		s.contentEncoding = "base64"
		return s, ruleNames(l, "required", "omitempty")
	}
	if f == Patch {
		f = Input // a merge patch replaces an array whole
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
func (b *Compiler) mapping(sc Scope, hint string, t reflect.Type, l *level, f Form) (*schema, []string) {
	el := l.dive
	if el == nil {
		el = &level{}
	}
	values, unexpressed := b.value(sc, hint+"Value", t.Elem(), el, f)
	if f == Patch {
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
func (b *Compiler) zeroPasses(t reflect.Type, l *level) bool {
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
