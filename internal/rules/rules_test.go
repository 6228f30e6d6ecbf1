package rules

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/go-playground/validator/v10"
)

// Every entry names a rule the validator has, so that a typo in the
// table cannot leave a rule without its message or its schema form.
func TestCatalogueNamesValidatorRules(t *testing.T) {
	v := validator.New()
	known := func(tag string) (ok bool) {
		defer func() {
			if r := recover(); r != nil {
				ok = !strings.Contains(strings.ToLower(r.(string)), "undefined validation function")
			}
		}()
		_ = v.Var("", tag+"=1") // a parameter, for the rules that need one
		return true
	}
	if known("no_such_rule") {
		t.Fatal("the check cannot tell an unknown rule")
	}
	for name, r := range builtin {
		if !known(name) {
			t.Errorf("%s: not a rule of the validator", name)
		}
		if r.Form == Alias {
			for _, part := range strings.Split(r.Expand, "|") {
				if _, ok := builtin[part]; !ok {
					t.Errorf("%s: expands to %s, which the catalogue lacks", name, part)
				}
			}
		}
	}
}

// A size rule has a sentence for every kind it measures, and every fixed
// form is a pattern Go can compile (the server's validator is Go's; the
// document's readers are ECMAScript's, whose syntax these share).
func TestCatalogueEntriesAreComplete(t *testing.T) {
	for name, r := range builtin {
		if r.Size != NoSize && (r.Message == "" || r.Text == "" || r.Items == "") {
			t.Errorf("%s: a size rule needs a sentence for numbers, strings and collections", name)
		}
		if r.Form == Fixed && r.Format == "" && r.Pattern == "" {
			t.Errorf("%s: a fixed form needs a format or a pattern", name)
		}
		if _, err := regexp.Compile(r.Pattern); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestSize(t *testing.T) {
	tests := []struct {
		size Size
		kind reflect.Kind
		want Measure
	}{
		{ByKind, reflect.Int, Value},
		{ByKind, reflect.Float64, Value},
		{ByKind, reflect.String, Length},
		{ByKind, reflect.Slice, Count},
		{ByKind, reflect.Map, Count},
		{ByKind, reflect.Bool, None},
		{ValueOrCount, reflect.String, Value},
		{ValueOrCount, reflect.Bool, Value},
		{ValueOrCount, reflect.Array, Count},
		{NoSize, reflect.String, None},
	}
	for _, tt := range tests {
		if got := tt.size.Of(tt.kind); got != tt.want {
			t.Errorf("Size(%d).Of(%s) = %d, want %d", tt.size, tt.kind, got, tt.want)
		}
	}
}

// The size semantics the catalogue states are the validator's: a string's
// length in runes (as JSON Schema counts it), not bytes; eq on a string
// compares its value, len its length; a collection's element count.
func TestSizeMatchesValidator(t *testing.T) {
	v := validator.New()
	tests := []struct {
		value any
		tag   string
		pass  bool
		want  Measure
	}{
		{"ééé", "max=3", true, Length}, // 6 bytes, 3 runes
		{"éééé", "max=3", false, Length},
		{"ééé", "len=3", true, Length},
		{"3", "eq=3", true, Value},    // the value...
		{"abc", "eq=3", false, Value}, // ...not the length
		{"abc", "ne=3", true, Value},
		{7, "max=3", false, Value},
		{true, "eq=true", true, Value},
		{[]int{1, 2, 3, 4}, "max=3", false, Count},
		{map[string]int{"a": 1}, "eq=1", true, Count},
	}
	for _, tt := range tests {
		if err := v.Var(tt.value, tt.tag); (err == nil) != tt.pass {
			t.Errorf("%v with %s: passes %v, want %v", tt.value, tt.tag, err == nil, tt.pass)
		}
		name, _, _ := strings.Cut(tt.tag, "=")
		r, _ := Lookup(name)
		if got := r.Size.Of(reflect.TypeOf(tt.value).Kind()); got != tt.want {
			t.Errorf("%s on %T: the catalogue measures %d, want %d", name, tt.value, got, tt.want)
		}
	}
}
