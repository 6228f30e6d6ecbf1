package openapi

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/pinionkit/pinion/openapi/jsonschema"
	"go.yaml.in/yaml/v4"
)

// encodeYAML renders v, built from *jsonschema.Object, []any, string,
// jsonschema.Number, bool, int and jsonschema.Null, as a YAML document with
// a leading comment.
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
	case *jsonschema.Object:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for k, v := range x.Members() {
			n.Content = append(n.Content, scalar("!!str", k), node(v))
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
	case jsonschema.Number:
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
	case jsonschema.Null:
		return scalar("!!null", "null")
	}
	panic(fmt.Sprintf("openapi: no YAML form for %T", v)) // a bug in this package, not an input error
}

func scalar(tag, value string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
}

func isScalar(v any) bool {
	switch v.(type) {
	case string, jsonschema.Number, int, bool, jsonschema.Null:
		return true
	}
	return false
}

// object is the ordered JSON object the document is built from, the form
// the schema compiler renders into.
type object = jsonschema.Object

func newObject() *object { return jsonschema.NewObject() }
