package jsonschema

import (
	"strconv"
	"strings"
	"unicode"
)

// Pascal turns a name such as "app-settings" or "auth:state.v2" into an
// identifier such as "AppSettings" or "AuthStateV2", for component names
// (and, in a document, operation ids).
func Pascal(name string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(name, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		rs := []rune(part)
		b.WriteRune(unicode.ToUpper(rs[0]))
		b.WriteString(string(rs[1:]))
	}
	return b.String()
}

// goTypeName returns the name of a Go type as a component name: only
// letters and digits, without the type arguments of a generic type.
func goTypeName(name string) string {
	name, _, _ = strings.Cut(name, "[")
	return strings.Map(func(r rune) rune {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return r
		}
		return -1
	}, name)
}

// Names hands out names that are unique within one namespace (component
// schemas; in a document, operation ids too). Names are claimed in a fixed
// order, so that the suffix a clash gets is the same on every run.
type Names struct {
	used map[string]bool
}

// NewNames returns a namespace in which the reserved names are taken.
func NewNames(reserved ...string) *Names {
	r := &Names{used: make(map[string]bool)}
	for _, name := range reserved {
		r.used[name] = true
	}
	return r
}

// Claim returns name, or name followed by the smallest number from 2 up
// that makes it unique.
func (r *Names) Claim(name string) string {
	unique := name
	for i := 2; r.used[unique]; i++ {
		unique = name + strconv.Itoa(i)
	}
	r.used[unique] = true
	return unique
}
