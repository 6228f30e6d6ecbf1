package demo_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/pinionkit/pinion/demo"
	"github.com/pinionkit/pinion/topic"
)

// lookup registers fresh demo topics and returns the one named name.
func lookup(t *testing.T, name string) *topic.Topic {
	t.Helper()
	set, err := topic.NewSet(demo.Topics())
	if err != nil {
		t.Fatalf("NewSet: %v", err)
	}
	tp, ok := set.Lookup(name)
	if !ok {
		t.Fatalf("no topic %q", name)
	}
	return tp
}

// onto applies a prepared write onto current (nil for the default
// document), as the server does inside its store's write lock.
func onto(current []byte) func(topic.Write, error) ([]byte, error) {
	return func(w topic.Write, err error) ([]byte, error) {
		if err != nil {
			return nil, err
		}
		return w.Apply(context.Background(), current)
	}
}

func wantValidation(t *testing.T, err error, want ...topic.FieldError) {
	t.Helper()
	verr, ok := errors.AsType[*topic.ValidationError](err)
	if !ok {
		t.Fatalf("error = %#v, want a *ValidationError", err)
	}
	if !reflect.DeepEqual(verr.Errors, want) {
		t.Errorf("errors:\n got %+v\nwant %+v", verr.Errors, want)
	}
}

func TestTopics(t *testing.T) {
	set, err := topic.NewSet(demo.Topics())
	if err != nil {
		t.Fatalf("NewSet: %v", err)
	}
	tests := []struct {
		name    string
		scope   topic.Scope
		def     string
		actions []string
	}{
		{"app-settings", topic.Shared,
			`{"theme":"system","language":"en","fontSize":14,"notifications":true,"compactMode":false,"reducedMotion":false}`,
			[]string{"toggle-theme"}},
		{"cart", topic.PerPrincipal, `{"items":[],"coupon":""}`,
			[]string{"add-item", "clear", "remove-item", "set-quantity"}},
		{"user-preferences", topic.PerPrincipal,
			`{"displayName":"","accentColor":"#4f46e5","sidebar":"expanded","favorites":[]}`, nil},
	}
	all := set.All()
	if len(all) != len(tests) {
		t.Fatalf("%d topics, want %d", len(all), len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := all[i]
			if tp.Name() != tt.name || tp.Scope() != tt.scope || tp.Description() == "" {
				t.Errorf("topic = %s (%v, %q)", tp.Name(), tp.Scope(), tp.Description())
			}
			if got := string(tp.Default()); got != tt.def {
				t.Errorf("Default() = %s\nwant %s", got, tt.def)
			}
			var actions []string
			for _, a := range tp.Actions() {
				actions = append(actions, a.Name)
				if a.Description == "" {
					t.Errorf("action %s has no description", a.Name)
				}
			}
			if !reflect.DeepEqual(actions, tt.actions) {
				t.Errorf("actions = %v, want %v", actions, tt.actions)
			}
		})
	}
}

func TestAppSettings(t *testing.T) {
	tp := lookup(t, "app-settings")
	_, err := onto(nil)(tp.PrepareReplace([]byte(`{"theme": "neon", "language": "not a tag!", "fontSize": 40, "notifications": "yes"}`)))
	wantValidation(t, err,
		topic.FieldError{Field: "fontSize", Pointer: "/fontSize", Rule: "max", Param: "32", Message: "fontSize must be at most 32"},
		topic.FieldError{Field: "language", Pointer: "/language", Rule: "bcp47_language_tag", Message: "language must be a valid language tag such as en or pt-BR"},
		topic.FieldError{Field: "notifications", Pointer: "/notifications", Rule: "type", Param: "boolean", Message: "notifications must be a boolean"},
		topic.FieldError{Field: "theme", Pointer: "/theme", Rule: "oneof", Param: "light dark system", Message: "theme must be one of: light, dark, system"},
	)
	out, err := onto(nil)(tp.PreparePatch([]byte(`{"language": "pt-BR", "compactMode": true}`)))
	if err != nil {
		t.Fatalf("Merge: %v", err)
	}
	want := `{"theme":"system","language":"pt-BR","fontSize":14,"notifications":true,"compactMode":true,"reducedMotion":false}`
	if string(out) != want {
		t.Errorf("Merge = %s\nwant %s", out, want)
	}
}

func TestToggleTheme(t *testing.T) {
	tp := lookup(t, "app-settings")
	doc := tp.Default() // theme "system"
	for _, want := range []string{"light", "dark", "system", "light"} {
		var err error
		doc, err = onto(doc)(tp.PrepareAction("toggle-theme", []byte(`{}`)))
		if err != nil {
			t.Fatalf("toggle-theme: %v", err)
		}
		if got := field(t, doc, "theme"); got != want {
			t.Fatalf("theme = %v, want %s", got, want)
		}
	}
}

func TestUserPreferences(t *testing.T) {
	tp := lookup(t, "user-preferences")
	_, err := onto(nil)(tp.PrepareReplace([]byte(`{"displayName": "Ada", "accentColor": "purple", "sidebar": "hidden", "favorites": ["/home", "", "/x"]}`)))
	wantValidation(t, err,
		topic.FieldError{Field: "accentColor", Pointer: "/accentColor", Rule: "hexcolor", Message: "accentColor must be a valid hex color such as #4f46e5"},
		topic.FieldError{Field: "favorites", Pointer: "/favorites/1", Rule: "required", Message: "favorites[1] is required"},
		topic.FieldError{Field: "sidebar", Pointer: "/sidebar", Rule: "oneof", Param: "expanded collapsed", Message: "sidebar must be one of: expanded, collapsed"},
	)
	_, err = onto(nil)(tp.PreparePatch([]byte(`{"favorites": ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"]}`)))
	wantValidation(t, err,
		topic.FieldError{Field: "favorites", Pointer: "/favorites", Rule: "max", Param: "10", Message: "favorites must contain at most 10 items"},
	)
}

const cartAB = `{"items":[{"sku":"a","name":"Apple","qty":2,"priceCents":50},{"sku":"b","name":"Bread","qty":1,"priceCents":300}],"coupon":""}`

func TestCartActions(t *testing.T) {
	tests := []struct {
		name    string
		action  string
		current string // "" for the default document
		input   string
		want    string
	}{
		{
			name: "add-item to an empty cart", action: "add-item",
			input: `{"sku": "a", "name": "Apple", "priceCents": 50, "qty": 2}`,
			want:  `{"items":[{"sku":"a","name":"Apple","qty":2,"priceCents":50}],"coupon":""}`,
		},
		{
			name: "add-item appends a new line", action: "add-item", current: cartAB,
			input: `{"sku": "c", "name": "Cheese", "priceCents": 700, "qty": 1}`,
			want:  `{"items":[{"sku":"a","name":"Apple","qty":2,"priceCents":50},{"sku":"b","name":"Bread","qty":1,"priceCents":300},{"sku":"c","name":"Cheese","qty":1,"priceCents":700}],"coupon":""}`,
		},
		{
			name: "add-item merges into the line of the same sku", action: "add-item", current: cartAB,
			input: `{"sku": "a", "name": "Green apple", "priceCents": 60, "qty": 3}`,
			want:  `{"items":[{"sku":"a","name":"Green apple","qty":5,"priceCents":60},{"sku":"b","name":"Bread","qty":1,"priceCents":300}],"coupon":""}`,
		},
		{
			name: "set-quantity", action: "set-quantity", current: cartAB,
			input: `{"sku": "b", "qty": 7}`,
			want:  `{"items":[{"sku":"a","name":"Apple","qty":2,"priceCents":50},{"sku":"b","name":"Bread","qty":7,"priceCents":300}],"coupon":""}`,
		},
		{
			name: "set-quantity 0 removes the line", action: "set-quantity", current: cartAB,
			input: `{"sku": "a", "qty": 0}`,
			want:  `{"items":[{"sku":"b","name":"Bread","qty":1,"priceCents":300}],"coupon":""}`,
		},
		{
			name: "remove-item", action: "remove-item", current: cartAB,
			input: `{"sku": "b"}`,
			want:  `{"items":[{"sku":"a","name":"Apple","qty":2,"priceCents":50}],"coupon":""}`,
		},
		{
			name: "clear", action: "clear", current: cartAB,
			input: `{}`,
			want:  `{"items":[],"coupon":""}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := lookup(t, "cart")
			var current []byte
			if tt.current != "" {
				current = []byte(tt.current)
			}
			out, err := onto(current)(tp.PrepareAction(tt.action, []byte(tt.input)))
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if string(out) != tt.want {
				t.Errorf("output = %s\nwant %s", out, tt.want)
			}
		})
	}
}

func TestCartActionErrors(t *testing.T) {
	unknownSKU := topic.FieldError{Field: "sku", Pointer: "/sku", Rule: "exists", Message: "sku does not match any item in the cart"}
	tests := []struct {
		name    string
		action  string
		current string
		input   string
		want    []topic.FieldError
	}{
		{
			name: "add-item input is validated", action: "add-item",
			input: `{"sku": "", "name": "Apple", "priceCents": -1, "qty": 100}`,
			want: []topic.FieldError{
				{Field: "priceCents", Pointer: "/priceCents", Rule: "min", Param: "0", Message: "priceCents must be at least 0"},
				{Field: "qty", Pointer: "/qty", Rule: "max", Param: "99", Message: "qty must be at most 99"},
				{Field: "sku", Pointer: "/sku", Rule: "required", Message: "sku is required"},
			},
		},
		{
			name: "add-item result is validated", action: "add-item", current: cartAB,
			input: `{"sku": "a", "name": "Apple", "priceCents": 50, "qty": 98}`,
			want: []topic.FieldError{
				{Field: "qty", Pointer: "/items/0/qty", Rule: "max", Param: "99", Message: "qty must be at most 99"},
			},
		},
		{
			name: "set-quantity of an unknown sku", action: "set-quantity", current: cartAB,
			input: `{"sku": "zz", "qty": 1}`,
			want:  []topic.FieldError{unknownSKU},
		},
		{
			name: "set-quantity needs a quantity", action: "set-quantity", current: cartAB,
			input: `{"sku": "a"}`,
			want: []topic.FieldError{
				{Field: "qty", Pointer: "/qty", Rule: "required", Message: "qty is required"},
			},
		},
		{
			name: "set-quantity range", action: "set-quantity", current: cartAB,
			input: `{"sku": "a", "qty": -1}`,
			want: []topic.FieldError{
				{Field: "qty", Pointer: "/qty", Rule: "min", Param: "0", Message: "qty must be at least 0"},
			},
		},
		{
			name: "remove-item of an unknown sku", action: "remove-item", current: cartAB,
			input: `{"sku": "zz"}`,
			want:  []topic.FieldError{unknownSKU},
		},
		{
			name: "clear takes no input", action: "clear", current: cartAB,
			input: `{"all": true}`,
			want: []topic.FieldError{
				{Field: "all", Pointer: "/all", Rule: "unknown", Message: "all is not a known field"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := lookup(t, "cart")
			var current []byte
			if tt.current != "" {
				current = []byte(tt.current)
			}
			_, err := onto(current)(tp.PrepareAction(tt.action, []byte(tt.input)))
			wantValidation(t, err, tt.want...)
		})
	}
}

func TestCartLimit(t *testing.T) {
	tp := lookup(t, "cart")
	doc := tp.Default()
	for i := range 50 {
		var err error
		input := fmt.Sprintf(`{"sku": "sku-%d", "name": "n", "priceCents": 1, "qty": 1}`, i)
		if doc, err = onto(doc)(tp.PrepareAction("add-item", []byte(input))); err != nil {
			t.Fatalf("add-item #%d: %v", i+1, err)
		}
	}
	_, err := onto(doc)(tp.PrepareAction("add-item", []byte(`{"sku": "one-more", "name": "n", "priceCents": 1, "qty": 1}`)))
	wantValidation(t, err,
		topic.FieldError{Field: "items", Pointer: "/items", Rule: "max", Param: "50", Message: "items must contain at most 50 items"},
	)
}

func TestCartCoupon(t *testing.T) {
	tp := lookup(t, "cart")
	if _, err := onto(nil)(tp.PreparePatch([]byte(`{"coupon": "SPRING25"}`))); err != nil {
		t.Errorf("valid coupon: %v", err)
	}
	_, err := onto(nil)(tp.PreparePatch([]byte(`{"coupon": "SPRING-25"}`)))
	wantValidation(t, err,
		topic.FieldError{Field: "coupon", Pointer: "/coupon", Rule: "alphanum", Message: "coupon must contain only letters and digits"},
	)
}

// field returns one member of a JSON object.
func field(t *testing.T, doc []byte, name string) any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatalf("decoding %s: %v", doc, err)
	}
	return m[name]
}
