package jsonschema_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/go-playground/validator/v10"
	"github.com/pinionkit/pinion/internal/rules"
	"github.com/pinionkit/pinion/openapi/jsonschema"
)

// catalogue is a Rules source without a topic registry: the built-in
// catalogue and a validator of its own, as any user of the compiler
// outside Pinion's topics would have.
type catalogue struct{ v *validator.Validate }

func (catalogue) LookupRule(name string) (rules.Rule, bool) { return rules.Lookup(name) }

func (c catalogue) ZeroValid(t reflect.Type, tag string) bool {
	if t.Kind() == reflect.Struct {
		return c.v.Struct(reflect.New(t).Interface()) == nil
	}
	return c.v.Var(reflect.Zero(t).Interface(), tag) == nil
}

type account struct {
	Name  string   `json:"name" validate:"required,max=8" doc:"A short name."`
	Email string   `json:"email,omitempty" validate:"omitempty,email"`
	Tags  []string `json:"tags" validate:"max=3,dive,alphanum"`
}

// plain turns a rendered value into maps and slices, to compare.
func plain(v any) any {
	switch x := v.(type) {
	case *jsonschema.Object:
		m := make(map[string]any)
		for k, v := range x.Members() {
			m[k] = plain(v)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	}
	return v
}

// The compiler works on its own, with no document around it: each form
// of a type becomes one named component, with the rules it can express.
func TestCompilerOnItsOwn(t *testing.T) {
	c := jsonschema.New(catalogue{validator.New(validator.WithRequiredStructEnabled())}, "Account")
	c.Add("Account", jsonschema.NewObject().Set("type", "string"))
	sc := jsonschema.Scope{Name: "accounts", Prefix: "Account"}
	typ := reflect.TypeFor[account]()
	names := []string{
		c.Component(sc, typ, jsonschema.Read, "Account", ""),
		c.Component(sc, typ, jsonschema.Input, "AccountInput", ""),
		c.Component(sc, typ, jsonschema.Patch, "AccountPatch", ""),
	}
	if want := []string{"Account2", "AccountInput", "AccountPatch"}; !slices.Equal(names, want) {
		t.Fatalf("names %v, want %v (Account is reserved)", names, want)
	}
	if again := c.Component(sc, typ, jsonschema.Read, "Other", ""); again != "Account2" {
		t.Errorf("the same type and form compiled again as %s", again)
	}
	schemas := plain(c.Schemas()).(map[string]any)
	if got := schemas["Account"]; !reflect.DeepEqual(got, map[string]any{"type": "string"}) {
		t.Errorf("the added schema became %v", got)
	}
	required := func(name string) any { return schemas[name].(map[string]any)["required"] }
	for name, want := range map[string]any{
		"Account2":     []any{"name", "tags"}, // always sent, email omitted when empty
		"AccountInput": []any{"name"},         // only what fails as its zero value
		"AccountPatch": nil,
	} {
		if got := required(name); !reflect.DeepEqual(got, want) {
			t.Errorf("%s requires %v, want %v", name, got, want)
		}
	}
	props := schemas["AccountInput"].(map[string]any)["properties"].(map[string]any)
	wantName := map[string]any{"description": "A short name.", "type": "string", "minLength": 1, "maxLength": 8}
	if got := props["name"]; !reflect.DeepEqual(plainNumbers(got), wantName) {
		t.Errorf("name: %v, want %v", got, wantName)
	}
	if got := props["tags"].(map[string]any)["items"].(map[string]any)["pattern"]; got != "^[a-zA-Z0-9]+$" {
		t.Errorf("tags items pattern %v", got)
	}
	patch := schemas["AccountPatch"].(map[string]any)["properties"].(map[string]any)
	if got := patch["tags"].(map[string]any)["type"]; !reflect.DeepEqual(got, []any{"array", "null"}) {
		t.Errorf("a patch cannot reset tags with null: %v", patch["tags"])
	}
	if got := patch["name"].(map[string]any)["type"]; got != "string" {
		t.Errorf("a patch may set name to null, which fails required: %v", patch["name"])
	}
}

// plainNumbers turns jsonschema.Number and int members into float64.
func plainNumbers(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := make(map[string]any, len(m))
	for k, e := range m {
		switch n := e.(type) {
		case jsonschema.Number:
			out[k] = string(n)
		default:
			out[k] = e
		}
	}
	return out
}
