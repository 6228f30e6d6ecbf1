package topic

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

func TestRewriteAt(t *testing.T) {
	body := `{"a": 1, "b": [10, {"c": 2, "d": 3}, 30], "e": {"f/g": true}}`
	tests := []struct {
		ptr    string
		remove bool
		want   string
	}{
		{"/a", false, `{"a":null,"b":[10,{"c":2,"d":3},30],"e":{"f/g":true}}`},
		{"/a", true, `{"b":[10,{"c":2,"d":3},30],"e":{"f/g":true}}`},
		{"/b/0", false, `{"a":1,"b":[null,{"c":2,"d":3},30],"e":{"f/g":true}}`},
		{"/b/1/d", true, `{"a":1,"b":[10,{"c":2},30],"e":{"f/g":true}}`},
		{"/b/2", false, `{"a":1,"b":[10,{"c":2,"d":3},null],"e":{"f/g":true}}`},
		{"/e/f~1g", true, `{"a":1,"b":[10,{"c":2,"d":3},30],"e":{}}`},
	}
	for _, tt := range tests {
		t.Run(tt.ptr, func(t *testing.T) {
			got, err := rewriteAt([]byte(body), jsontext.Pointer(tt.ptr), tt.remove)
			if err != nil {
				t.Fatalf("rewriteAt: %v", err)
			}
			if string(bytes.TrimSpace(got)) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	for _, ptr := range []string{"/x", "/b/7", "/a/b"} {
		if _, err := rewriteAt([]byte(body), jsontext.Pointer(ptr), false); err == nil {
			t.Errorf("rewriteAt(%s) found a value", ptr)
		}
	}
}

func TestSortFieldErrors(t *testing.T) {
	errs := []FieldError{
		{Pointer: "/items/10/qty", Rule: "min"},
		{Pointer: "/zeta"},
		{Pointer: "/items/2/qty", Rule: "max"},
		{Pointer: "/items/2/name"},
		{Pointer: ""},
		{Pointer: "/items"},
		{Pointer: "/items/2/qty", Rule: "type"},
	}
	sortFieldErrors(errs)
	var got []string
	for _, e := range errs {
		got = append(got, e.Pointer+" "+e.Rule)
	}
	want := []string{" ", "/items ", "/items/2/name ", "/items/2/qty max", "/items/2/qty type", "/items/10/qty min", "/zeta "}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("order = %q\nwant %q", got, want)
	}
}

func TestCutKey(t *testing.T) {
	tests := []struct{ ns, key, rest string }{
		{"[3]", "3", ""},
		{"[3].Qty", "3", ".Qty"},
		{"[a][b]", "a", "[b]"},
		{"[a.b[c]]", "a.b[c]", ""},
		{"[x]y]", "x]y", ""},
	}
	for _, tt := range tests {
		if key, rest := cutKey(tt.ns); key != tt.key || rest != tt.rest {
			t.Errorf("cutKey(%q) = %q, %q; want %q, %q", tt.ns, key, rest, tt.key, tt.rest)
		}
	}
}

func TestSyntaxErrorMessage(t *testing.T) {
	err := &SyntaxError{offset: 41, line: 3, column: 14, detail: "invalid character '}' at start of value"}
	want := "invalid JSON at line 3, column 14 (byte 41): invalid character '}' at start of value"
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
