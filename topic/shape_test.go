package topic_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/pinionkit/pinion/internal/jsonbound"
	"github.com/pinionkit/pinion/topic"
)

// TestPreparePatchRefusesBeforeTheLock checks that a merge patch's unknown
// members and values of the wrong type are refused by PreparePatch, which
// runs before the store's write lock, with pointers into the merged
// document; and that what only the merge can tell (the rules) is left to
// Apply.
func TestPreparePatchRefusesBeforeTheLock(t *testing.T) {
	tp := settingsTopic(t)
	tests := []struct {
		name  string
		patch string
		want  []topic.FieldError // nil: PreparePatch accepts the patch
	}{
		{"unknown member", `{"colour": "red"}`, []topic.FieldError{
			fe("colour", "/colour", "unknown", "", "colour is not a known field"),
		}},
		{"wrong type", `{"fontSize": "12"}`, []topic.FieldError{
			fe("fontSize", "/fontSize", "type", "integer", "fontSize must be an integer"),
		}},
		{"in a replaced array", `{"items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": "x", "extra": 1}]}`, []topic.FieldError{
			fe("extra", "/items/1/extra", "unknown", "", "extra is not a known field"),
			fe("qty", "/items/1/qty", "type", "integer", "qty must be an integer"),
		}},
		{"in a merged map", `{"labels": {"a": 1, "b": "two", "c": null}}`, []topic.FieldError{
			fe("labels", "/labels/b", "type", "integer", "labels[b] must be an integer"),
		}},
		{"an object for a number", `{"fontSize": {"a": null}}`, []topic.FieldError{
			fe("fontSize", "/fontSize", "type", "integer", "fontSize must be an integer"),
		}},
		{"every problem at once", `{"a": 1, "theme": 2, "tags": ["x", 3], "b": {}}`, []topic.FieldError{
			fe("a", "/a", "unknown", "", "a is not a known field"),
			fe("b", "/b", "unknown", "", "b is not a known field"),
			fe("tags", "/tags/1", "type", "string", "tags[1] must be a string"),
			fe("theme", "/theme", "type", "string", "theme must be a string"),
		}},
		// Deleting a member the document cannot have changes nothing.
		{"deleting an unknown member", `{"colour": null}`, nil},
		{"deleting a known member", `{"theme": null}`, nil}, // refused by Apply: required
		{"a rule only the merged document can check", `{"fontSize": 99}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tp.PreparePatch([]byte(tt.patch))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("PreparePatch: %v, want it to leave the patch to Apply", err)
				}
				return
			}
			wantValidation(t, err, tt.want...)
		})
	}
}

// TestDecodeProblemsCostOneDecoding checks that a body with many problems
// is decoded once, not once per problem: a body with 19 unknown members
// used to be decoded 20 times, which let one 1 MiB body cost twenty
// decodings of itself.
func TestDecodeProblemsCostOneDecoding(t *testing.T) {
	type Doc struct {
		Theme string  `json:"theme" validate:"required"`
		Probe counted `json:"probe"`
	}
	var decodes atomic.Int64
	def := topic.Define("probe", topic.Spec[Doc]{Default: Doc{Theme: "x"}})
	tp := mustTopic(t, def)
	var b strings.Builder
	b.WriteString(`{"probe": {"n": 1}`)
	for i := range 19 {
		fmt.Fprintf(&b, `, "x%d": 1`, i)
	}
	b.WriteString(`}`)
	counter.Store(&decodes)
	t.Cleanup(func() { counter.Store(nil) })

	_, err := tp.PrepareReplace([]byte(b.String()))
	verr, ok := err.(*topic.ValidationError)
	if !ok || len(verr.Errors) != 20 { // 19 unknown members, theme required
		t.Fatalf("error = %v, want 20 problems", err)
	}
	// One check of the probe's value on its own, one decoding of the
	// body without its unknown members.
	if n := decodes.Load(); n > 2 {
		t.Errorf("the body was decoded %d times, want at most 2", n)
	}
}

// counter counts the decodings of counted values while a test runs.
var counter atomic.Pointer[atomic.Int64]

// counted decodes itself, so each decoding of a document that holds one
// is counted.
type counted struct{ N int }

func (c *counted) UnmarshalJSON(b []byte) error {
	if n := counter.Load(); n != nil {
		n.Add(1)
	}
	c.N = len(b)
	return nil
}

// TestPatchWorstAllowedRefusedBeforeTheLock checks that the costliest patch
// the default limits allow (9,000 unknown members in about 1 MiB) is
// refused by PreparePatch, without the current document, and that a
// large valid patch is merged by Apply. Timing is logged, not asserted.
func TestPatchWorstAllowedRefusedBeforeTheLock(t *testing.T) {
	tp := settingsTopic(t)
	var b strings.Builder
	b.WriteByte('{')
	for i := range 9000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d":"%s"`, i, strings.Repeat("x", 100))
	}
	b.WriteByte('}')
	start := time.Now()
	_, err := tp.PreparePatch([]byte(b.String()))
	verr, ok := err.(*topic.ValidationError)
	if !ok || len(verr.Errors) != 20 {
		t.Fatalf("error = %v, want the first 20 unknown members", err)
	}
	t.Logf("refused a %d-byte patch in %v", b.Len(), time.Since(start))

	var lb strings.Builder
	lb.WriteString(`{"labels": {`)
	for i := range 9000 {
		if i > 0 {
			lb.WriteByte(',')
		}
		fmt.Fprintf(&lb, `"k%d":%d`, i, i%9)
	}
	lb.WriteString(`}}`)
	w, err := tp.PreparePatch([]byte(lb.String()))
	if err != nil {
		t.Fatalf("PreparePatch: %v", err)
	}
	start = time.Now()
	out, err := w.Apply(context.Background(), nil)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	t.Logf("applied a %d-byte patch in %v", lb.Len(), time.Since(start))
	if !strings.Contains(string(out), `"k8999":8`) {
		t.Errorf("the merged document lacks the patch's last member")
	}
}

// FuzzShapeAgreesWithJSON holds the one-pass check to json's own strict
// decoding: a body gets an unknown-member or type problem exactly when
// json refuses to decode it, and a merge patch is refused before the lock
// exactly when json refuses to decode the merged document. A spurious
// problem would refuse a good write; a missed one would leave the problem
// to the single decoding inside the lock.
func FuzzShapeAgreesWithJSON(f *testing.F) {
	for _, seed := range []string{
		`{"theme":"dark","fontSize":14}`,
		`{"theme":1,"fontSize":"x","colour":null,"tags":[1,"a",null],"items":[{"sku":"a","qty":1.5,"x":2},[],null],"labels":{"a":"b","c":null}}`,
		`{"labels":{"x":1e400},"items":[{"sku":{"a":1}}],"name":[],"color":true}`,
		`{"fontSize":-1,"tags":{},"items":{},"labels":[]}`,
		`{"Theme":"dark","fontsize":1,"items":[{"SKU":"a"}]}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		tp := mustTopic(t, defineSettings())
		if v := jsontext.Value(body); !v.IsValid() || v.Kind() != '{' {
			return
		}
		var doc Settings
		jsonErr := json.Unmarshal([]byte(body), &doc, json.RejectUnknownMembers(true))
		if _, ok := errors.AsType[*json.SemanticError](jsonErr); jsonErr != nil && !ok {
			return // a syntax error json finds: not this check's business
		}
		_, err := tp.PrepareReplace([]byte(body))
		if got, want := hasDecodeProblem(err), jsonErr != nil; got != want {
			t.Fatalf("PUT %s: decode problem %v (%v), json says %v", body, got, err, jsonErr)
		}

		merged, err := jsonbound.MergePatch(tp.Default(), []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		mergedErr := json.Unmarshal(merged, new(Settings), json.RejectUnknownMembers(true))
		_, err = tp.PreparePatch([]byte(body))
		if got, want := hasDecodeProblem(err), mergedErr != nil; got != want {
			t.Fatalf("PATCH %s: refused before the lock %v (%v), json on the merged %s says %v", body, got, err, merged, mergedErr)
		}
	})
}

func hasDecodeProblem(err error) bool {
	verr, ok := errors.AsType[*topic.ValidationError](err)
	return ok && slices.ContainsFunc(verr.Errors, func(fe topic.FieldError) bool {
		return fe.Rule == "unknown" || fe.Rule == "type"
	})
}
