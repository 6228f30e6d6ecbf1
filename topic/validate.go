package topic

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/go-playground/validator/v10"
)

// newValidator returns the validator a Set owns. It must be fully
// configured before its first use: registering with the validator is not
// safe for concurrent use.
func newValidator() *validator.Validate {
	// Without WithRequiredStructEnabled, `required` on a struct field
	// silently does nothing.
	v := validator.New(validator.WithRequiredStructEnabled())
	// Name fields by their JSON names, the only names clients know. Field
	// pointers are computed separately (see pointerFromNamespace), because
	// a namespace of JSON names cannot tell an embedded struct apart.
	v.RegisterTagNameFunc(func(sf reflect.StructField) string {
		name, _, ignored := jsonField(sf)
		if ignored {
			return "" // the validator falls back to the Go name
		}
		return name
	})
	return v
}

// jsonField reports how json v2 maps a struct field: its JSON member name,
// whether its own fields are embedded into the parent object instead, and
// whether JSON ignores it. It follows v2's rules for the common cases: `-`
// ignores a field, unexported fields are ignored unless embedded, an
// embedded struct without a JSON name (or with the `embed` option) is
// flattened, and a field without a name in its tag keeps its Go name.
func jsonField(sf reflect.StructField) (name string, embedded, ignored bool) {
	tag := sf.Tag.Get("json")
	if tag == "-" || (!sf.IsExported() && !sf.Anonymous) {
		return "", false, true
	}
	name, options, _ := strings.Cut(tag, ",")
	hasName := name != ""
	if !hasName {
		name = sf.Name
	}
	embedded = (sf.Anonymous && !hasName && indirect(sf.Type).Kind() == reflect.Struct) ||
		slices.Contains(strings.Split(options, ","), "embed")
	return name, embedded, false
}

// checkTags makes the validator parse the validate tags of typ and of every
// struct type reachable from it. The validator panics on a tag it does not
// know, and only when it first meets the type; meeting every type here
// turns a panic during a request into a registration problem.
func (s *Set) checkTags(typ reflect.Type) []error {
	var problems []error
	seen := make(map[reflect.Type]bool)
	var visit func(t reflect.Type)
	visit = func(t reflect.Type) {
		for {
			switch t.Kind() {
			case reflect.Pointer, reflect.Slice, reflect.Array:
				t = t.Elem()
				continue
			case reflect.Map:
				visit(t.Key())
				t = t.Elem()
				continue
			}
			break
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		if err := s.tryValidate(reflect.New(t).Interface()); err != nil {
			problems = append(problems, fmt.Errorf("type %s: %w", t, err))
		}
		for i := range t.NumField() {
			// The validator skips unexported fields unless they are embedded.
			if sf := t.Field(i); sf.IsExported() || sf.Anonymous {
				visit(sf.Type)
			}
		}
	}
	visit(typ)
	return problems
}

// tryValidate validates v and reports only a panic: a zero value failing
// its rules is expected, a tag the validator cannot parse is not.
func (s *Set) tryValidate(v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("bad validate tag: %v", r)
		}
	}()
	_ = s.validate.Struct(v)
	return nil
}

// validateValue validates v, a pointer to a struct of type root, and
// returns its failures with pointers into the JSON form of v.
func (s *Set) validateValue(v any, root reflect.Type) ([]FieldError, error) {
	err := s.validate.Struct(v)
	if err == nil {
		return nil, nil
	}
	var failures validator.ValidationErrors
	if !errors.As(err, &failures) {
		return nil, fmt.Errorf("validating %s: %w", root, err)
	}
	out := make([]FieldError, 0, len(failures))
	for _, fe := range failures {
		ptr := pointerFromNamespace(root, fe.StructNamespace())
		field, subject := describe(root, ptr)
		out = append(out, FieldError{
			Field:   field,
			Pointer: ptr,
			Rule:    fe.Tag(),
			Param:   fe.Param(),
			Message: s.message(subject, fe.Tag(), fe.Param(), fe.Kind()),
		})
	}
	return out, nil
}

// pointerFromNamespace turns a validator namespace of Go names, such as
// "Cart.Items[2].Qty", into a JSON Pointer such as "/items/2/qty". It walks
// root alongside the namespace to use JSON names and to skip embedded
// structs, whose fields JSON flattens into the parent object.
func pointerFromNamespace(root reflect.Type, ns string) string {
	// The first segment is the root type's name, absent for anonymous
	// struct types. Generic type names contain dots and brackets, so strip
	// the known name rather than parsing it.
	if name := root.Name(); name != "" {
		ns = strings.TrimPrefix(ns, name+".")
	}
	var ptr jsontext.Pointer
	t := root
	for ns != "" {
		t = indirect(t)
		if ns[0] == '[' {
			var key string
			key, ns = cutKey(ns)
			ptr = ptr.AppendToken(key)
			t = elem(t)
			continue
		}
		ns = strings.TrimPrefix(ns, ".")
		end := strings.IndexAny(ns, ".[")
		if end < 0 {
			end = len(ns)
		}
		goName := ns[:end]
		ns = ns[end:]
		var sf reflect.StructField
		found := false
		if t != nil && t.Kind() == reflect.Struct {
			sf, found = t.FieldByName(goName)
		}
		if !found {
			ptr, t = ptr.AppendToken(goName), nil
			continue
		}
		if name, embedded, _ := jsonField(sf); !embedded {
			ptr = ptr.AppendToken(name)
		}
		t = sf.Type
	}
	return string(ptr)
}

// cutKey splits "[key]rest" into key and rest. The validator prints map
// keys with %v, unescaped, so a key may itself contain brackets: the key
// ends at the first ']' that is followed by the end or by the start of
// another segment.
func cutKey(ns string) (key, rest string) {
	for i := 1; i < len(ns); i++ {
		if ns[i] == ']' && (i+1 == len(ns) || ns[i+1] == '.' || ns[i+1] == '[') {
			return ns[1:i], ns[i+1:]
		}
	}
	return ns[1:], ""
}

// describe names the value that ptr points to inside a JSON document of Go
// type root. field is the JSON name of the field the value belongs to, and
// subject is how a message refers to the value: "qty" for a field,
// "favorites[3]" for an element of an array or map field, "" for the
// document itself.
func describe(root reflect.Type, ptr string) (field, subject string) {
	t := root
	for tok := range jsontext.Pointer(ptr).Tokens() {
		t = indirect(t)
		if k := kindOf(t); k == reflect.Slice || k == reflect.Array || k == reflect.Map {
			subject += "[" + tok + "]"
			t = t.Elem()
			continue
		}
		field, subject = tok, tok
		t = memberType(t, tok, 0)
	}
	return field, subject
}

// memberType returns the type of the field that JSON member name decodes
// into, or nil when t is not a struct or has no such member.
func memberType(t reflect.Type, name string, depth int) reflect.Type {
	if kindOf(t) != reflect.Struct || depth > 16 {
		return nil
	}
	var embeds []reflect.Type
	for i := range t.NumField() {
		sf := t.Field(i)
		switch n, embedded, ignored := jsonField(sf); {
		case ignored:
		case embedded:
			embeds = append(embeds, indirect(sf.Type))
		case n == name:
			return sf.Type
		}
	}
	// A struct's own fields win over those of embedded structs, as in JSON.
	for _, e := range embeds {
		if mt := memberType(e, name, depth+1); mt != nil {
			return mt
		}
	}
	return nil
}

func indirect(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func elem(t reflect.Type) reflect.Type {
	switch kindOf(t) {
	case reflect.Slice, reflect.Array, reflect.Map:
		return t.Elem()
	}
	return nil
}

func kindOf(t reflect.Type) reflect.Kind {
	if t == nil {
		return reflect.Invalid
	}
	return t.Kind()
}
