package topic_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/pinionkit/pinion/topic"
)

func TestReplaceSyntaxErrors(t *testing.T) {
	tp := settingsTopic(t)
	tests := []struct {
		name   string
		body   string
		at     string // the body's text from the reported offset on; "" for the end
		line   int
		column int
		detail string
	}{
		{name: "empty body", body: "", line: 1, column: 1, detail: "the body is empty"},
		{name: "only whitespace", body: " \n\t", line: 2, column: 2, detail: "the body is empty"},
		{name: "unterminated object", body: `{"theme": "dark"`, line: 1, column: 17, detail: "unexpected end of input"},
		{name: "missing value", body: "{\n  \"theme\": \"dark\",\n  \"fontSize\": }", at: "}", line: 3, column: 15, detail: "invalid character '}' at start of value"},
		{name: "trailing comma", body: `{"theme": "dark",}`, at: "}", line: 1, column: 18, detail: "invalid character '}'"},
		{name: "bare word", body: `{"theme": dark}`, at: "dark}", line: 1, column: 11, detail: "invalid character 'd'"},
		{name: "trailing data", body: `{"theme": "dark"} x`, at: "x", line: 1, column: 19, detail: "unexpected data after the JSON value"},
		{name: "second value", body: "{}\n{}", at: "{}", line: 2, column: 1, detail: "unexpected data after the JSON value"},
		{name: "duplicate member", body: `{"theme": "dark", "theme": "light"}`, at: `"theme": "light"}`, line: 1, column: 19, detail: `duplicate member name "theme"`},
		{name: "nested duplicate", body: `{"items": [{"sku": "a", "sku": "b"}]}`, at: `"sku": "b"}]}`, line: 1, column: 25, detail: `duplicate member name "sku"`},
		{name: "invalid UTF-8", body: "{\"name\": \"\xff\"}", at: "\xff\"}", line: 1, column: 11, detail: "invalid UTF-8"},
		{name: "column counts characters", body: "{\"name\": \"été\" x}", at: "x}", line: 1, column: 16, detail: "invalid character 'x'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tp.Replace([]byte(tt.body))
			serr, ok := errors.AsType[*topic.SyntaxError](err)
			if !ok {
				t.Fatalf("error = %#v, want a *SyntaxError", err)
			}
			wantOffset := len(tt.body)
			if tt.at != "" {
				wantOffset = strings.LastIndex(tt.body, tt.at)
			}
			offset, line, column, detail := serr.Position()
			if offset != int64(wantOffset) || line != tt.line || column != tt.column {
				t.Errorf("position = byte %d, line %d, column %d; want byte %d, line %d, column %d",
					offset, line, column, wantOffset, tt.line, tt.column)
			}
			if !strings.Contains(detail, tt.detail) {
				t.Errorf("detail = %q, want it to contain %q", detail, tt.detail)
			}
			if strings.Contains(serr.Error(), "topic_test") || strings.Contains(serr.Error(), "Settings") {
				t.Errorf("message %q names a Go type", serr.Error())
			}
		})
	}
}

func TestReplaceValidation(t *testing.T) {
	tp := settingsTopic(t)
	tests := []struct {
		name string
		body string
		want []topic.FieldError
	}{
		{"array document", `[]`, []topic.FieldError{fe("", "", "type", "object", "the document must be a JSON object")}},
		{"string document", ` "dark"`, []topic.FieldError{fe("", "", "type", "object", "the document must be a JSON object")}},
		{"null document", `null`, []topic.FieldError{fe("", "", "type", "object", "the document must be a JSON object")}},
		{"number document", `42`, []topic.FieldError{fe("", "", "type", "object", "the document must be a JSON object")}},
		{"required", `{"fontSize": 14}`, []topic.FieldError{fe("theme", "/theme", "required", "", "theme is required")}},
		{"oneof", `{"theme": "neon", "fontSize": 14}`, []topic.FieldError{
			fe("theme", "/theme", "oneof", "light dark system", "theme must be one of: light, dark, system"),
		}},
		{"max on a number", `{"theme": "dark", "fontSize": 40}`, []topic.FieldError{
			fe("fontSize", "/fontSize", "max", "32", "fontSize must be at most 32"),
		}},
		{"min on a number", `{"theme": "dark", "fontSize": 2}`, []topic.FieldError{
			fe("fontSize", "/fontSize", "min", "10", "fontSize must be at least 10"),
		}},
		{"max on a string", `{"theme": "dark", "fontSize": 14, "name": "Bartholomew"}`, []topic.FieldError{
			fe("name", "/name", "max", "5", "name must be at most 5 characters long"),
		}},
		{"max on a slice", `{"theme": "dark", "fontSize": 14, "tags": ["a", "b", "c", "d"]}`, []topic.FieldError{
			fe("tags", "/tags", "max", "3", "tags must contain at most 3 items"),
		}},
		{"format rule", `{"theme": "dark", "fontSize": 14, "color": "blue"}`, []topic.FieldError{
			fe("color", "/color", "hexcolor", "", "color must be a valid hex color such as #4f46e5"),
		}},
		{"slice element", `{"theme": "dark", "fontSize": 14, "tags": ["a", "", "toolong"]}`, []topic.FieldError{
			fe("tags", "/tags/1", "required", "", "tags[1] is required"),
			fe("tags", "/tags/2", "max", "4", "tags[2] must be at most 4 characters long"),
		}},
		{"nested dive", `{"theme": "dark", "fontSize": 14, "items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}, {"sku": "c", "qty": 0}]}`, []topic.FieldError{
			fe("qty", "/items/2/qty", "min", "1", "qty must be at least 1"),
		}},
		{"map value with an escaped key", `{"theme": "dark", "fontSize": 14, "labels": {"ok": 1, "a/b~c": 10}}`, []topic.FieldError{
			fe("labels", "/labels/a~1b~0c", "max", "9", "labels[a/b~c] must be at most 9"),
		}},
		{"unknown member", `{"theme": "dark", "fontSize": 14, "font": 12}`, []topic.FieldError{
			fe("font", "/font", "unknown", "", "font is not a known field"),
		}},
		{"nested unknown member", `{"theme": "dark", "fontSize": 14, "items": [{"sku": "a", "qty": 1, "colour": "red"}]}`, []topic.FieldError{
			fe("colour", "/items/0/colour", "unknown", "", "colour is not a known field"),
		}},
		{"every unknown member", `{"a": 1, "theme": "dark", "fontSize": 14, "b": {"c": 2}, "items": [{"sku": "a", "qty": 1, "d": null}]}`, []topic.FieldError{
			fe("a", "/a", "unknown", "", "a is not a known field"),
			fe("b", "/b", "unknown", "", "b is not a known field"),
			fe("d", "/items/0/d", "unknown", "", "d is not a known field"),
		}},
		{"names are case-sensitive", `{"theme": "dark", "FontSize": 14}`, []topic.FieldError{
			fe("FontSize", "/FontSize", "unknown", "", "FontSize is not a known field"),
			fe("fontSize", "/fontSize", "min", "10", "fontSize must be at least 10"),
		}},
		{"string for an integer", `{"theme": "dark", "fontSize": "big"}`, []topic.FieldError{
			fe("fontSize", "/fontSize", "type", "integer", "fontSize must be an integer"),
		}},
		{"fraction for an integer", `{"theme": "dark", "fontSize": 12.5}`, []topic.FieldError{
			fe("fontSize", "/fontSize", "type", "integer", "fontSize must be an integer"),
		}},
		{"huge integer", `{"theme": "dark", "fontSize": 123456789012345678901234567890}`, []topic.FieldError{
			fe("fontSize", "/fontSize", "type", "integer", "fontSize is out of range"),
		}},
		{"number for a string", `{"theme": 1, "fontSize": 14}`, []topic.FieldError{
			fe("theme", "/theme", "type", "string", "theme must be a string"),
		}},
		{"object for an array", `{"theme": "dark", "fontSize": 14, "tags": {}}`, []topic.FieldError{
			fe("tags", "/tags", "type", "array", "tags must be an array"),
		}},
		{"array for an object", `{"theme": "dark", "fontSize": 14, "items": [[]]}`, []topic.FieldError{
			fe("items", "/items/0", "type", "object", "items[0] must be an object"),
		}},
		{"wrong element type", `{"theme": "dark", "fontSize": 14, "tags": ["a", 5]}`, []topic.FieldError{
			fe("tags", "/tags/1", "type", "string", "tags[1] must be a string"),
		}},
		{"nested type error", `{"theme": "dark", "fontSize": 14, "items": [{"sku": "a", "qty": true}]}`, []topic.FieldError{
			fe("qty", "/items/0/qty", "type", "integer", "qty must be an integer"),
		}},
		{"every kind of problem at once", `{"theme": "neon", "fontSize": "big", "colour": "red", "tags": [1, "a"]}`, []topic.FieldError{
			fe("colour", "/colour", "unknown", "", "colour is not a known field"),
			fe("fontSize", "/fontSize", "type", "integer", "fontSize must be an integer"),
			fe("tags", "/tags/0", "type", "string", "tags[0] must be a string"),
			fe("theme", "/theme", "oneof", "light dark system", "theme must be one of: light, dark, system"),
		}},
		{"sorted with numeric indices", `{"theme": "dark", "fontSize": 14, "items": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]}`, []topic.FieldError{
			fe("items", "/items", "max", "3", "items must contain at most 3 items"),
			fe("items", "/items/0", "type", "object", "items[0] must be an object"),
			fe("items", "/items/1", "type", "object", "items[1] must be an object"),
			fe("items", "/items/2", "type", "object", "items[2] must be an object"),
			fe("items", "/items/3", "type", "object", "items[3] must be an object"),
			fe("items", "/items/4", "type", "object", "items[4] must be an object"),
			fe("items", "/items/5", "type", "object", "items[5] must be an object"),
			fe("items", "/items/6", "type", "object", "items[6] must be an object"),
			fe("items", "/items/7", "type", "object", "items[7] must be an object"),
			fe("items", "/items/8", "type", "object", "items[8] must be an object"),
			fe("items", "/items/9", "type", "object", "items[9] must be an object"),
			fe("items", "/items/10", "type", "object", "items[10] must be an object"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tp.Replace([]byte(tt.body))
			if out != nil {
				t.Errorf("output = %s, want none", out)
			}
			wantValidation(t, err, tt.want...)
		})
	}
}

func TestReplaceBoundsDecodeProblems(t *testing.T) {
	tp := settingsTopic(t)
	var b strings.Builder
	b.WriteString(`{"theme": "dark", "fontSize": 14`)
	for i := range 100 {
		b.WriteString(`, "x` + strings.Repeat("y", i) + `": 1`)
	}
	b.WriteString(`}`)
	_, err := tp.Replace([]byte(b.String()))
	verr, ok := errors.AsType[*topic.ValidationError](err)
	if !ok {
		t.Fatalf("error = %#v, want a *ValidationError", err)
	}
	if n := len(verr.Errors); n == 0 || n > 20 {
		t.Errorf("%d errors, want between 1 and 20", n)
	}
}

func TestReplaceCanonical(t *testing.T) {
	tp := settingsTopic(t)
	tests := []struct {
		name, body, want string
	}{
		{
			name: "defaults for missing members",
			body: `{"theme": "dark", "fontSize": 14}`,
			want: `{"theme":"dark","fontSize":14,"name":"","color":"","tags":[],"items":[],"labels":{}}`,
		},
		{
			name: "declaration order, sorted map keys, no whitespace",
			body: "{\n  \"labels\": {\"b\": 2, \"a\": 1, \"c\": 3},\n  \"fontSize\": 14,\n  \"theme\": \"light\"\n}\n",
			want: `{"theme":"light","fontSize":14,"name":"","color":"","tags":[],"items":[],"labels":{"a":1,"b":2,"c":3}}`,
		},
		{
			name: "null is the zero value",
			body: `{"theme": "dark", "fontSize": 14, "tags": null, "name": null}`,
			want: `{"theme":"dark","fontSize":14,"name":"","color":"","tags":[],"items":[],"labels":{}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 3 { // map order must not leak into the output
				out, err := tp.Replace([]byte(tt.body))
				if err != nil {
					t.Fatalf("Replace: %v", err)
				}
				if string(out) != tt.want {
					t.Fatalf("output = %s\nwant %s", out, tt.want)
				}
			}
		})
	}
}

func TestDefault(t *testing.T) {
	tp := settingsTopic(t)
	want := `{"theme":"system","fontSize":14,"name":"","color":"","tags":[],"items":[],"labels":{}}`
	got := tp.Default()
	if string(got) != want {
		t.Fatalf("Default() = %s, want %s", got, want)
	}
	got[0] = 'x'
	if string(tp.Default()) != want {
		t.Error("changing the returned slice changed the default")
	}
}

func TestConcurrentUse(t *testing.T) {
	tp := settingsTopic(t)
	bodies := []string{
		`{"theme": "dark", "fontSize": 14}`,
		`{"theme": "neon", "fontSize": 14, "items": [{"sku": "a", "qty": 0}]}`,
		`{"theme": "dark", "fontSize": "x", "extra": 1}`,
	}
	done := make(chan struct{})
	for i := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for j := range 50 {
				body := bodies[(i+j)%len(bodies)]
				_, _ = tp.Replace([]byte(body))
				_, _ = tp.Merge(nil, []byte(`{"name": "x"}`))
			}
		}()
	}
	for range 8 {
		<-done
	}
}
