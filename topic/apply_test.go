package topic_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pinionkit/pinion/topic"
)

func TestApply(t *testing.T) {
	tp := settingsTopic(t)
	current := `{"theme":"dark","fontSize":14,"name":"bob","color":"","tags":[],"items":[{"sku":"a","qty":1}],"labels":{}}`
	tests := []struct {
		name    string
		action  string
		current string // "" for nil: the default document
		input   string
		want    string
	}{
		{
			name:   "adds up",
			action: "add", current: current, input: `{"sku": "a", "qty": 2}`,
			want: `{"theme":"dark","fontSize":14,"name":"bob","color":"","tags":[],"items":[{"sku":"a","qty":3}],"labels":{}}`,
		},
		{
			name:   "appends",
			action: "add", current: current, input: `{"sku": "b", "qty": 5}`,
			want: `{"theme":"dark","fontSize":14,"name":"bob","color":"","tags":[],"items":[{"sku":"a","qty":1},{"sku":"b","qty":5}],"labels":{}}`,
		},
		{
			name:   "nil current is the default",
			action: "add", input: `{"sku": "b", "qty": 5}`,
			want: `{"theme":"system","fontSize":14,"name":"","color":"","tags":[],"items":[{"sku":"b","qty":5}],"labels":{}}`,
		},
		{
			name:   "empty input",
			action: "reset-name", current: current, input: ` {} `,
			want: `{"theme":"dark","fontSize":14,"name":"","color":"","tags":[],"items":[{"sku":"a","qty":1}],"labels":{}}`,
		},
		{
			name:   "anonymous input type",
			action: "remove", current: current, input: `{"sku": "a"}`,
			want: `{"theme":"dark","fontSize":14,"name":"bob","color":"","tags":[],"items":[],"labels":{}}`,
		},
		{
			name:   "context reaches the action",
			action: "from-context", current: current, input: `{}`,
			want: `{"theme":"dark","fontSize":14,"name":"ctx","color":"","tags":[],"items":[{"sku":"a","qty":1}],"labels":{}}`,
		},
	}
	ctx := context.WithValue(context.Background(), ctxKey{}, "ctx")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cur []byte
			if tt.current != "" {
				cur = []byte(tt.current)
			}
			out, err := tp.Apply(ctx, tt.action, cur, []byte(tt.input))
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if string(out) != tt.want {
				t.Errorf("output = %s\nwant %s", out, tt.want)
			}
		})
	}
}

func TestApplyValidation(t *testing.T) {
	tp := settingsTopic(t)
	current := []byte(`{"theme":"dark","fontSize":14,"items":[{"sku":"a","qty":90}]}`)
	tests := []struct {
		name, action, input string
		want                []topic.FieldError
	}{
		{"input rule", "add", `{"sku": "a", "qty": 0}`, []topic.FieldError{
			fe("qty", "/qty", "min", "1", "qty must be at least 1"),
		}},
		{"input required", "add", `{"qty": 1}`, []topic.FieldError{
			fe("sku", "/sku", "required", "", "sku is required"),
		}},
		{"input type", "add", `{"sku": "a", "qty": "1"}`, []topic.FieldError{
			fe("qty", "/qty", "type", "integer", "qty must be an integer"),
		}},
		{"input unknown member", "add", `{"sku": "a", "qty": 1, "note": "x"}`, []topic.FieldError{
			fe("note", "/note", "unknown", "", "note is not a known field"),
		}},
		{"input not an object", "add", `["a", 1]`, []topic.FieldError{
			fe("", "", "type", "object", "the input must be a JSON object"),
		}},
		{"members in an empty input", "reset-name", `{"name": "x"}`, []topic.FieldError{
			fe("name", "/name", "unknown", "", "name is not a known field"),
		}},
		{"result is validated", "add", `{"sku": "a", "qty": 30}`, []topic.FieldError{
			fe("qty", "/items/0/qty", "max", "99", "qty must be at most 99"),
		}},
		{"rejected by the action", "remove", `{"sku": "zz"}`, []topic.FieldError{
			fe("sku", "/sku", "exists", "", "sku is not in the list"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tp.Apply(context.Background(), tt.action, current, []byte(tt.input))
			if out != nil {
				t.Errorf("output = %s, want none", out)
			}
			wantValidation(t, err, tt.want...)
		})
	}
}

func TestApplyErrors(t *testing.T) {
	tp := settingsTopic(t)
	ctx := context.Background()

	t.Run("unknown action", func(t *testing.T) {
		_, err := tp.Apply(ctx, "explode", nil, []byte(`{}`))
		if !errors.Is(err, topic.ErrUnknownAction) {
			t.Errorf("error = %v, want ErrUnknownAction", err)
		}
	})
	t.Run("input syntax", func(t *testing.T) {
		for _, input := range []string{``, `{"sku": "a",}`, `{} x`} {
			_, err := tp.Apply(ctx, "add", nil, []byte(input))
			if _, ok := errors.AsType[*topic.SyntaxError](err); !ok {
				t.Errorf("input %q: error = %#v, want a *SyntaxError", input, err)
			}
		}
	})
	t.Run("action failure is internal", func(t *testing.T) {
		_, err := tp.Apply(ctx, "break", nil, []byte(`{}`))
		if !errors.Is(err, errBroken) {
			t.Errorf("error = %v, want it to wrap the action's error", err)
		}
		if _, ok := errors.AsType[*topic.ValidationError](err); ok {
			t.Errorf("error = %v, want no *ValidationError", err)
		}
	})
	t.Run("corrupt current document", func(t *testing.T) {
		_, err := tp.Apply(ctx, "add", []byte(`{"fontSize": "x"}`), []byte(`{"sku": "a", "qty": 1}`))
		if err == nil {
			t.Fatal("no error")
		}
		if _, ok := errors.AsType[*topic.ValidationError](err); ok {
			t.Errorf("error = %v: a stored document is not the client's fault", err)
		}
	})
}

func TestReject(t *testing.T) {
	tests := []struct {
		field, rule, param, message string
		want                        topic.FieldError
	}{
		{"sku", "exists", "", "sku is unknown", fe("sku", "/sku", "exists", "", "sku is unknown")},
		{"a/b", "max", "3", "", fe("a/b", "/a~1b", "max", "3", "a/b failed the 'max' rule")},
	}
	for _, tt := range tests {
		err := topic.Reject(tt.field, tt.rule, tt.param, tt.message)
		wantValidation(t, err, tt.want)
		if err.Error() != tt.want.Message {
			t.Errorf("Error() = %q, want %q", err.Error(), tt.want.Message)
		}
	}
}

func TestValidationErrorMessage(t *testing.T) {
	err := &topic.ValidationError{Errors: []topic.FieldError{
		fe("fontSize", "/fontSize", "max", "32", "fontSize must be at most 32"),
		fe("qty", "/items/2/qty", "min", "1", "qty must be at least 1"),
	}}
	if got, want := err.Error(), "2 fields are invalid"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// Everything that does not depend on the current document happens when a
// write is prepared, outside the store's lock: a bad body never reaches
// Apply, and Apply only does the read-modify-write.
func TestPrepareChecksBeforeApply(t *testing.T) {
	tp := settingsTopic(t)
	if _, err := tp.PrepareReplace([]byte(`{"theme": "neon"}`)); err == nil {
		t.Error("PrepareReplace accepted an invalid document")
	}
	if _, err := tp.PreparePatch([]byte(`[1]`)); err == nil {
		t.Error("PreparePatch accepted a patch that is not an object")
	}
	if _, err := tp.PreparePatch([]byte(`{"theme": `)); err == nil {
		t.Error("PreparePatch accepted malformed JSON")
	}
	if _, err := tp.PrepareAction("add", []byte(`{"sku": "a", "qty": 0}`)); err == nil {
		t.Error("PrepareAction accepted an invalid input")
	}
	if _, err := tp.PrepareAction("nope", []byte(`{}`)); !errors.Is(err, topic.ErrUnknownAction) {
		t.Errorf("PrepareAction(nope) = %v, want ErrUnknownAction", err)
	}

	// One prepared write applies to whatever the current document is then.
	w, err := tp.PrepareAction("add", []byte(`{"sku": "a", "qty": 2}`))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first, err := w.Apply(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	second, err := w.Apply(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(second), `"qty":4`) {
		t.Errorf("applying twice = %s, want qty 4", second)
	}
	p, err := tp.PreparePatch([]byte(`{"fontSize": 99}`))
	if err != nil {
		t.Fatalf("PreparePatch: %v", err) // the merged document is what is validated
	}
	if _, err := p.Apply(ctx, nil); err == nil {
		t.Error("Apply accepted a merged document that is invalid")
	}
	if got, err := tp.PrepareReset().Apply(ctx, second); err != nil || string(got) != string(tp.Default()) {
		t.Errorf("reset = %s, %v", got, err)
	}
}
