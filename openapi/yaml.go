package openapi

import (
	"bytes"
	"fmt"
	"io"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"
	"go.yaml.in/yaml/v4"
)

// object is a JSON object that keeps its members in the order they were
// set, so that the document reads in a deliberate order (openapi, info,
// paths, components; type before properties) and is byte-identical across
// runs. Go maps would be sorted or random instead.
type object struct {
	keys []string
	vals map[string]any
}

func newObject() *object { return &object{vals: make(map[string]any)} }

// set adds or replaces a member and returns o, so that calls chain. A nil
// value or a nil *object leaves o unchanged.
func (o *object) set(key string, v any) *object {
	switch x := v.(type) {
	case nil:
		return o
	case *object:
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

// opt sets an optional string member: an empty one is left out.
func (o *object) opt(key, v string) *object {
	if v == "" {
		return o
	}
	return o.set(key, v)
}

// number is a JSON number kept as its literal, so that a bound such as
// 18446744073709551615 or 0.5 is written exactly as the validate tag
// spells it.
type number string

// null is JSON's null. object.set leaves nil out, so a null member of a
// value (a default document's nil pointer) needs a value of its own.
type null struct{}

// jsonValue turns one JSON value into the document's form, keeping the
// order of object members and the literals of numbers as they are.
func jsonValue(b []byte) (any, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(b))
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return nil, fmt.Errorf("openapi: more than one JSON value")
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
		return null{}, nil
	case 't', 'f':
		return tok.Bool(), nil
	case '"':
		return tok.String(), nil
	case '0':
		return number(tok.String()), nil
	case '{':
		o := newObject()
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
			o.set(name, v)
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
	return nil, fmt.Errorf("openapi: unexpected JSON token %v", tok)
}

// encodeYAML renders v, built from *object, []any, string, number, bool,
// int and null, as a YAML document with a leading comment.
func encodeYAML(v any, comment string) ([]byte, error) {
	root := node(v)
	root.HeadComment = comment
	var buf bytes.Buffer
	// A line width of -1 never folds long descriptions, so that a changed
	// word shows up as a one-line diff.
	enc, err := yaml.NewDumper(&buf, yaml.WithIndent(2), yaml.WithCompactSeqIndent(true), yaml.WithLineWidth(-1))
	if err != nil {
		return nil, err
	}
	if err := enc.Dump(root); err != nil {
		return nil, fmt.Errorf("openapi: encoding YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("openapi: encoding YAML: %w", err)
	}
	return buf.Bytes(), nil
}

func node(v any) *yaml.Node {
	switch x := v.(type) {
	case *object:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, k := range x.keys {
			n.Content = append(n.Content, scalar("!!str", k), node(x.vals[k]))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		if len(x) > 0 && isScalar(x[0]) {
			n.Style = yaml.FlowStyle // short lists such as enums and required read better inline
		}
		for _, e := range x {
			n.Content = append(n.Content, node(e))
		}
		return n
	case []string:
		a := make([]any, len(x))
		for i, s := range x {
			a[i] = s
		}
		return node(a)
	case string:
		return scalar("!!str", x)
	case number:
		if _, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return scalar("!!int", string(x))
		}
		if _, err := strconv.ParseUint(string(x), 10, 64); err == nil {
			return scalar("!!int", string(x))
		}
		return scalar("!!float", string(x))
	case int:
		return scalar("!!int", strconv.Itoa(x))
	case bool:
		return scalar("!!bool", strconv.FormatBool(x))
	case null:
		return scalar("!!null", "null")
	}
	panic(fmt.Sprintf("openapi: no YAML form for %T", v)) // a bug in this package, not an input error
}

func scalar(tag, value string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
}

func isScalar(v any) bool {
	switch v.(type) {
	case string, number, int, bool, null:
		return true
	}
	return false
}
