package topic_test

import (
	"errors"
	"testing"

	"github.com/pinionkit/pinion/topic"
)

func TestMerge(t *testing.T) {
	tp := settingsTopic(t)
	current := `{"theme":"dark","fontSize":14,"name":"bob","color":"#fff","tags":["a","b"],"items":[{"sku":"a","qty":1}],"labels":{"x":1,"y":2}}`
	tests := []struct {
		name    string
		current string // "" for nil: the default document
		patch   string
		want    string
	}{
		{
			name:  "changes one member",
			patch: `{"fontSize": 20}`,
			want:  `{"theme":"dark","fontSize":20,"name":"bob","color":"#fff","tags":["a","b"],"items":[{"sku":"a","qty":1}],"labels":{"x":1,"y":2}}`,
		},
		{
			name:  "null deletes a member",
			patch: `{"name": null, "color": null}`,
			want:  `{"theme":"dark","fontSize":14,"name":"","color":"","tags":["a","b"],"items":[{"sku":"a","qty":1}],"labels":{"x":1,"y":2}}`,
		},
		{
			name:  "arrays are replaced",
			patch: `{"tags": ["c"], "items": []}`,
			want:  `{"theme":"dark","fontSize":14,"name":"bob","color":"#fff","tags":["c"],"items":[],"labels":{"x":1,"y":2}}`,
		},
		{
			name:  "objects are merged",
			patch: `{"labels": {"x": null, "z": 3}}`,
			want:  `{"theme":"dark","fontSize":14,"name":"bob","color":"#fff","tags":["a","b"],"items":[{"sku":"a","qty":1}],"labels":{"y":2,"z":3}}`,
		},
		{
			name:  "empty patch",
			patch: `{}`,
			want:  current,
		},
		{
			name:    "nil current is the default",
			current: "-",
			patch:   `{"theme": "light"}`,
			want:    `{"theme":"light","fontSize":14,"name":"","color":"","tags":[],"items":[],"labels":{}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := []byte(current)
			if tt.current == "-" {
				cur = nil
			}
			out, err := tp.Merge(cur, []byte(tt.patch))
			if err != nil {
				t.Fatalf("Merge: %v", err)
			}
			if string(out) != tt.want {
				t.Errorf("output = %s\nwant %s", out, tt.want)
			}
		})
	}
}

func TestMergeErrors(t *testing.T) {
	tp := settingsTopic(t)
	current := []byte(`{"theme":"dark","fontSize":14,"items":[{"sku":"a","qty":1}]}`)
	notObject := []topic.FieldError{fe("", "", "type", "object", "a merge patch must be a JSON object")}
	tests := []struct {
		name  string
		patch string
		want  []topic.FieldError
	}{
		{"array patch", `[{"op": "replace"}]`, notObject},
		{"null patch", `null`, notObject},
		{"string patch", `"dark"`, notObject},
		{"merged result is validated", `{"fontSize": 99}`, []topic.FieldError{
			fe("fontSize", "/fontSize", "max", "32", "fontSize must be at most 32"),
		}},
		{"deleting a required member", `{"theme": null}`, []topic.FieldError{
			fe("theme", "/theme", "required", "", "theme is required"),
		}},
		{"pointers into the merged document", `{"items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 0}]}`, []topic.FieldError{
			fe("qty", "/items/1/qty", "min", "1", "qty must be at least 1"),
		}},
		{"unknown member", `{"colour": "red"}`, []topic.FieldError{
			fe("colour", "/colour", "unknown", "", "colour is not a known field"),
		}},
		{"wrong type", `{"fontSize": "12"}`, []topic.FieldError{
			fe("fontSize", "/fontSize", "type", "integer", "fontSize must be an integer"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tp.Merge(current, []byte(tt.patch))
			wantValidation(t, err, tt.want...)
		})
	}
}

func TestMergeSyntaxErrors(t *testing.T) {
	tp := settingsTopic(t)
	for name, patch := range map[string]string{
		"empty":     ``,
		"malformed": `{"theme": }`,
		"trailing":  `{} {}`,
		"duplicate": `{"theme": "dark", "theme": null}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tp.Merge([]byte(`{}`), []byte(patch))
			if _, ok := errors.AsType[*topic.SyntaxError](err); !ok {
				t.Errorf("error = %#v, want a *SyntaxError", err)
			}
		})
	}
}
