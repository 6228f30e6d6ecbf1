package jsonschema

import (
	"bytes"
	"fmt"
	"io"
	"iter"

	"github.com/go-json-experiment/json/jsontext"
)

// Object is a JSON object that keeps its members in the order they were
// set, so that a schema reads in a deliberate order (type before
// properties), a document built from Objects too (openapi, info, paths,
// components), and both are byte-identical across runs. Go maps would be
// sorted or random instead. Its values are *Object, []any, []string,
// string, Number, int, bool and Null.
type Object struct {
	keys []string
	vals map[string]any
}

// NewObject returns an empty Object.
func NewObject() *Object { return &Object{vals: make(map[string]any)} }

// Set adds or replaces a member and returns o, so that calls chain. A nil
// value or a nil *Object leaves o unchanged.
func (o *Object) Set(key string, v any) *Object {
	switch x := v.(type) {
	case nil:
		return o
	case *Object:
		if x == nil {
			return o
		}
	}
	if _, ok := o.vals[key]; !ok {
		o.keys = append(o.keys, key)
	}
	o.vals[key] = v
	return o
}

// Opt sets an optional string member: an empty one is left out.
func (o *Object) Opt(key, v string) *Object {
	if v == "" {
		return o
	}
	return o.Set(key, v)
}

// Members yields the members in the order they were first set.
func (o *Object) Members() iter.Seq2[string, any] {
	return func(yield func(string, any) bool) {
		for _, k := range o.keys {
			if !yield(k, o.vals[k]) {
				return
			}
		}
	}
}

// Number is a JSON number kept as its literal, so that a bound such as
// 18446744073709551615 or 0.5 is written exactly as the validate tag
// spells it.
type Number string

// Null is JSON's null. Object.Set leaves nil out, so a null member of a
// value (a default document's nil pointer) needs a value of its own.
type Null struct{}

// ParseValue turns one JSON value into the form of this package's values
// (Object, []any, string, Number, bool, Null), keeping the order of object
// members and the literals of numbers as they are.
func ParseValue(b []byte) (any, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(b))
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return nil, fmt.Errorf("jsonschema: more than one JSON value")
	}
	return v, nil
}

func decodeValue(dec *jsontext.Decoder) (any, error) {
	tok, err := dec.ReadToken()
	if err != nil {
		return nil, err
	}
	switch tok.Kind() {
	case 'n':
		return Null{}, nil
	case 't', 'f':
		return tok.Bool(), nil
	case '"':
		return tok.String(), nil
	case '0':
		return Number(tok.String()), nil
	case '{':
		o := NewObject()
		for dec.PeekKind() != '}' {
			tok, err := dec.ReadToken()
			if err != nil {
				return nil, err
			}
			name := tok.String() // before the next call voids tok
			v, err := decodeValue(dec)
			if err != nil {
				return nil, err
			}
			o.Set(name, v)
		}
		_, err := dec.ReadToken()
		return o, err
	case '[':
		a := []any{}
		for dec.PeekKind() != ']' {
			v, err := decodeValue(dec)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		_, err := dec.ReadToken()
		return a, err
	}
	return nil, fmt.Errorf("jsonschema: unexpected JSON token %v", tok)
}
