package openapi

import (
	"strconv"
	"strings"
	"unicode"
)

// pascal turns a topic or action name such as "app-settings" or
// "auth:state.v2" into an identifier such as "AppSettings" or
// "AuthStateV2", for component names and operation ids.
func pascal(name string) string {
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

// camel is pascal with a lower-case first letter.
func camel(name string) string {
	rs := []rune(pascal(name))
	if len(rs) == 0 {
		return ""
	}
	rs[0] = unicode.ToLower(rs[0])
	return string(rs)
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

// registry hands out names that are unique within one namespace of the
// document (component schemas, operation ids). Names are claimed in a
// fixed order, so that the suffix a clash gets is the same on every run.
type registry struct {
	used map[string]bool
}

func newRegistry(reserved ...string) *registry {
	r := &registry{used: make(map[string]bool)}
	for _, name := range reserved {
		r.used[name] = true
	}
	return r
}

// claim returns name, or name followed by the smallest number from 2 up
// that makes it unique.
func (r *registry) claim(name string) string {
	unique := name
	for i := 2; r.used[unique]; i++ {
		unique = name + strconv.Itoa(i)
	}
	r.used[unique] = true
	return unique
}
