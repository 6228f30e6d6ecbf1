package topic_test

import (
	"context"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/go-playground/validator/v10"
	"github.com/pinionkit/pinion/topic"
)

func TestNewSet(t *testing.T) {
	settings := defineSettings()
	other := topic.Define("a.other:1", topic.Spec[Item]{Scope: topic.PerPrincipal, Default: Item{SKU: "x", Qty: 1}})
	set := mustRegister(t, settings, other)

	if got, ok := set.Lookup("settings"); !ok || got.Definition != settings {
		t.Errorf("Lookup(settings) = %v, %v; want the settings definition", got, ok)
	}
	if _, ok := set.Lookup("nope"); ok {
		t.Error("Lookup(nope) found a topic")
	}
	var names []string
	for _, tp := range set.All() {
		names = append(names, tp.Name())
	}
	if want := []string{"a.other:1", "settings"}; !reflect.DeepEqual(names, want) {
		t.Errorf("All() names = %v, want %v", names, want)
	}

	if settings.Scope() != topic.Shared || other.Scope() != topic.PerPrincipal {
		t.Errorf("scopes = %v, %v", settings.Scope(), other.Scope())
	}
	if settings.Description() != "Test settings." {
		t.Errorf("Description() = %q", settings.Description())
	}
	if settings.Type() != reflect.TypeFor[Settings]() {
		t.Errorf("Type() = %v", settings.Type())
	}
	var actions []string
	for _, a := range settings.Actions() {
		actions = append(actions, a.Name)
	}
	if want := []string{"add", "break", "from-context", "remove", "reset-name"}; !reflect.DeepEqual(actions, want) {
		t.Errorf("Actions() names = %v, want %v", actions, want)
	}
	if add := settings.Actions()[0]; add.Description != "Adds an item." || add.Input != reflect.TypeFor[AddInput]() {
		t.Errorf("Actions()[0] = %+v", add)
	}
}

func TestScopeString(t *testing.T) {
	for scope, want := range map[topic.Scope]string{topic.Shared: "shared", topic.PerPrincipal: "per-principal", 7: "Scope(7)"} {
		if got := scope.String(); got != want {
			t.Errorf("Scope(%d).String() = %q, want %q", int(scope), got, want)
		}
	}
}

type BadTag struct {
	Name string `json:"name" validate:"requird"`
}

type BadNestedTag struct {
	Items []BadTag `json:"items" validate:"dive"`
}

type BadParam struct {
	N int `json:"n" validate:"max=lots"`
}

func TestNewSetProblems(t *testing.T) {
	valid := func(name string) *topic.Definition {
		return topic.Define(name, topic.Spec[Item]{Default: Item{SKU: "a", Qty: 1}})
	}
	tests := []struct {
		name   string
		opts   []topic.Option
		topics []*topic.Definition
		want   string // a regular expression
	}{
		{name: "uppercase topic name", topics: []*topic.Definition{valid("Cart")}, want: `topic "Cart": the name does not match`},
		{name: "empty topic name", topics: []*topic.Definition{valid("")}, want: `topic "": the name does not match`},
		{name: "topic name with a slash", topics: []*topic.Definition{valid("a/b")}, want: `topic "a/b": the name does not match`},
		{name: "topic name too long", topics: []*topic.Definition{valid(strings.Repeat("a", 129))}, want: `the name does not match`},
		{name: "duplicate topic", topics: []*topic.Definition{valid("cart"), valid("cart")}, want: `topic "cart" is defined more than once`},
		{name: "nil topic", topics: []*topic.Definition{nil}, want: `topic #1 is nil`},
		{
			name:   "non-struct document",
			topics: []*topic.Definition{topic.Define("n", topic.Spec[int]{Default: 3})},
			want:   `topic "n": the document type int is not a struct type`,
		},
		{
			name:   "pointer document",
			topics: []*topic.Definition{topic.Define("p", topic.Spec[*Item]{})},
			want:   `topic "p": the document type \*topic_test.Item is not a struct type`,
		},
		{
			name:   "invalid default",
			topics: []*topic.Definition{topic.Define("d", topic.Spec[Item]{Default: Item{Qty: 100}})},
			want:   `topic "d": the default document is invalid: 2 fields are invalid: qty must be at most 99 \(at /qty\); sku is required \(at /sku\)`,
		},
		{
			name:   "unknown scope",
			topics: []*topic.Definition{topic.Define("s", topic.Spec[Item]{Scope: 9, Default: Item{SKU: "a", Qty: 1}})},
			want:   `topic "s": unknown scope 9`,
		},
		{
			name:   "bad validate tag",
			topics: []*topic.Definition{topic.Define("t", topic.Spec[BadTag]{})},
			want:   `topic "t": type topic_test.BadTag: bad validate tag: .*requird`,
		},
		{
			name:   "bad validate tag in a nested type",
			topics: []*topic.Definition{topic.Define("t", topic.Spec[BadNestedTag]{})},
			want:   `topic "t": type topic_test.BadTag: bad validate tag`,
		},
		{
			name:   "bad rule parameter",
			topics: []*topic.Definition{topic.Define("t", topic.Spec[BadParam]{})},
			want:   `topic "t": type topic_test.BadParam: bad validate tag`,
		},
		{
			name: "bad action name",
			topics: []*topic.Definition{topic.Define("a", topic.Spec[Item]{Default: Item{SKU: "a", Qty: 1}, Actions: map[string]topic.Action[Item]{
				"Add_Item": topic.NewAction(func(context.Context, *Item, struct{}) error { return nil }),
			}})},
			want: `topic "a": action "Add_Item": the name does not match`,
		},
		{
			name: "non-struct action input",
			topics: []*topic.Definition{topic.Define("a", topic.Spec[Item]{Default: Item{SKU: "a", Qty: 1}, Actions: map[string]topic.Action[Item]{
				"set": topic.NewAction(func(context.Context, *Item, int) error { return nil }),
			}})},
			want: `topic "a": action "set": the input type int is not a struct type`,
		},
		{
			name: "bad tag in an action input",
			topics: []*topic.Definition{topic.Define("a", topic.Spec[Item]{Default: Item{SKU: "a", Qty: 1}, Actions: map[string]topic.Action[Item]{
				"set": topic.NewAction(func(context.Context, *Item, BadTag) error { return nil }),
			}})},
			want: `topic "a": action "set": type topic_test.BadTag: bad validate tag`,
		},
		{
			name: "action without a function",
			topics: []*topic.Definition{topic.Define("a", topic.Spec[Item]{Default: Item{SKU: "a", Qty: 1}, Actions: map[string]topic.Action[Item]{
				"zero": {},
				"nil":  topic.NewAction[Item, struct{}](nil),
			}})},
			want: `action "nil" has no function; make it with NewAction\ntopic "a": action "zero" has no function`,
		},
		{name: "reserved rule name", opts: []topic.Option{topic.WithRule("dive", func(validator.FieldLevel) bool { return true }, topic.Rule{Message: "x"})}, want: `rule "dive": `},
		{name: "rule without a function", opts: []topic.Option{topic.WithRule("sku", nil, topic.Rule{Message: "x"})}, want: `rule "sku": function cannot be empty`},
		{name: "rule with a bad pattern", opts: []topic.Option{topic.WithRule("sku", func(validator.FieldLevel) bool { return true }, topic.Rule{Message: "x", Pattern: "[A-Z"})}, want: `rule "sku": the pattern: error parsing regexp`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := topic.NewSet(tt.topics, tt.opts...)
			if err == nil {
				t.Fatalf("NewSet succeeded, want an error matching %s", tt.want)
			}
			if set != nil {
				t.Error("NewSet returned a set along with an error")
			}
			if !regexp.MustCompile(tt.want).MatchString(err.Error()) {
				t.Errorf("error = %q\nwant a match for %s", err, tt.want)
			}
		})
	}
}

func TestNewSetReportsEveryProblem(t *testing.T) {
	_, err := topic.NewSet([]*topic.Definition{
		topic.Define("Bad", topic.Spec[Item]{Default: Item{SKU: "a", Qty: 1}}),
		topic.Define("n", topic.Spec[string]{}),
		topic.Define("d", topic.Spec[Item]{}),
	})
	if err == nil {
		t.Fatal("NewSet succeeded")
	}
	for _, want := range []string{`topic "Bad"`, `topic "n"`, `topic "d"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestFailedSetLeavesDefinitionsUsable(t *testing.T) {
	good := topic.Define("good", topic.Spec[Item]{Default: Item{SKU: "a", Qty: 1}})
	if _, err := topic.NewSet([]*topic.Definition{good, topic.Define("Bad", topic.Spec[Item]{})}); err == nil {
		t.Fatal("NewSet succeeded")
	}
	if _, err := mustTopic(t, good).Replace([]byte(`{"sku": "a", "qty": 1}`)); err != nil {
		t.Errorf("Replace after a failed registration: %v", err)
	}
}

// A definition is immutable: two sets compile it independently, each with
// its own rules, and neither changes what the other accepts.
func TestDefinitionInManySets(t *testing.T) {
	type Stock struct {
		SKU string `json:"sku" validate:"required,sku"`
	}
	def := topic.Define("product", topic.Spec[Stock]{Default: Stock{SKU: "AB-1234"}})
	anySKU := func(validator.FieldLevel) bool { return true }
	strictSKU := func(fl validator.FieldLevel) bool {
		return regexp.MustCompile(`^[A-Z]{2}-\d{4}$`).MatchString(fl.Field().String())
	}
	lax := mustTopic(t, def, topic.WithRule("sku", anySKU, topic.Rule{Message: "is anything"}))
	strict := mustTopic(t, def, topic.WithRule("sku", strictSKU, topic.Rule{Message: "must be a stock-keeping unit like AB-1234"}))
	if _, err := lax.Replace([]byte(`{"sku": "ab"}`)); err != nil {
		t.Errorf("lax set: %v", err)
	}
	_, err := strict.Replace([]byte(`{"sku": "ab"}`))
	wantValidation(t, err, fe("sku", "/sku", "sku", "", "sku must be a stock-keeping unit like AB-1234"))
	if got := def.Default(); string(got) != `{"sku":"AB-1234"}` {
		t.Errorf("Default() = %s", got)
	}
}

type Product struct {
	SKU string `json:"sku" validate:"required,sku"`
	Tag string `json:"tag" validate:"omitempty,prefix=tag-"`
}

func TestWithRule(t *testing.T) {
	isSKU := func(fl validator.FieldLevel) bool {
		return regexp.MustCompile(`^[A-Z]{2}-\d{4}$`).MatchString(fl.Field().String())
	}
	hasPrefix := func(fl validator.FieldLevel) bool {
		return strings.HasPrefix(fl.Field().String(), fl.Param())
	}
	tp := mustTopic(t, topic.Define("product", topic.Spec[Product]{Default: Product{SKU: "AB-1234"}}),
		topic.WithRule("sku", isSKU, topic.Rule{Message: "must be a stock-keeping unit like AB-1234"}),
		topic.WithRule("prefix", hasPrefix, topic.Rule{Message: "must start with {param}"}),
	)
	_, err := tp.Replace([]byte(`{"sku": "ab", "tag": "x"}`))
	wantValidation(t, err,
		fe("sku", "/sku", "sku", "", "sku must be a stock-keeping unit like AB-1234"),
		fe("tag", "/tag", "prefix", "tag-", "tag must start with tag-"),
	)
	if _, err := tp.Replace([]byte(`{"sku": "CD-0001", "tag": "tag-new"}`)); err != nil {
		t.Errorf("Replace: %v", err)
	}
}

// Base is embedded: JSON flattens its fields into the parent object, and
// pointers must too.
type Base struct {
	ID string `json:"id" validate:"required"`
}

type Page[X any] struct {
	Base
	Entries []X               `json:"entries" validate:"dive"`
	Meta    Meta              `json:"meta"`
	Extra   map[string]*Entry `json:"extra" validate:"dive"`
	Ignored string            `json:"-"`
	Plain   int               `validate:"max=3"`
}

type Meta struct {
	Title string `json:"title" validate:"required"`
}

type Entry struct {
	N int `json:"n" validate:"max=5"`
}

func TestPointers(t *testing.T) {
	tp := mustTopic(t, topic.Define("page", topic.Spec[Page[Entry]]{Default: Page[Entry]{Base: Base{ID: "x"}, Meta: Meta{Title: "t"}}}))
	_, err := tp.Replace([]byte(`{"id": "", "entries": [{"n": 1}, {"n": 9}], "meta": {"title": ""}, "extra": {"a.b[c]": {"n": 6}}, "Plain": 4}`))
	wantValidation(t, err,
		fe("Plain", "/Plain", "max", "3", "Plain must be at most 3"),
		fe("n", "/entries/1/n", "max", "5", "n must be at most 5"),
		fe("n", "/extra/a.b[c]/n", "max", "5", "n must be at most 5"),
		fe("id", "/id", "required", "", "id is required"),
		fe("title", "/meta/title", "required", "", "title is required"),
	)
	_, err = tp.Replace([]byte(`{"id": "x", "meta": {"title": "t"}, "Ignored": "x", "Base": {}}`))
	wantValidation(t, err,
		fe("Base", "/Base", "unknown", "", "Base is not a known field"),
		fe("Ignored", "/Ignored", "unknown", "", "Ignored is not a known field"),
	)
}
