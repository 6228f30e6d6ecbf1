package openapi

import (
	"unicode"

	"github.com/pinionkit/pinion/openapi/jsonschema"
)

// camel is jsonschema.Pascal with a lower-case first letter, for the
// operation ids of actions ("cartAddItem").
func camel(name string) string {
	rs := []rune(jsonschema.Pascal(name))
	if len(rs) == 0 {
		return ""
	}
	rs[0] = unicode.ToLower(rs[0])
	return string(rs)
}
