package openapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/pinionkit/pinion/topic"
)

// Rich exercises every kind of type and rule the generator maps, so that
// the generated schemas can be held against the server's own validation.
type Rich struct {
	Name   string         `json:"name" validate:"required,max=8" doc:"A short name."`
	Email  string         `json:"email" validate:"omitempty,email"`
	Kind   string         `json:"kind" validate:"oneof=a b 'c d'"`
	Level  uint8          `json:"level" validate:"max=200"`
	Ratio  float64        `json:"ratio" validate:"gt=0,lt=1"`
	Count  *int           `json:"count" validate:"omitempty,min=2"`
	Must   *int           `json:"must" validate:"required"`
	Tags   []string       `json:"tags" validate:"min=1,max=3,unique,dive,alphanum,len=2"`
	Labels map[string]int `json:"labels" validate:"max=2,dive,keys,startswith=x,endkeys,gte=1"`
	Nested Inner          `json:"nested"`
	Opt    *Inner         `json:"opt"`
	When   time.Time      `json:"when" validate:"required"`
	Color  string         `json:"color" validate:"omitempty,iscolor"`
	ID     string         `json:"id" validate:"omitempty,uuid4"`
	Hidden string         `json:"-"`
	Embedded
	Omitted string         `json:"omitted,omitempty"`
	Flag    bool           `json:"flag" validate:"required"`
	Cross   string         `json:"cross" validate:"required_with=Name"`
	Lang    string         `json:"lang" validate:"omitempty,bcp47_language_tag"`
	Pair    [2]int         `json:"pair"`
	ByNum   map[int]string `json:"byNum"`
	Any     any            `json:"any"`
	Kept    int            `json:"kept,omitempty"`
}

// Inner is a nested struct: required in input because its zero value
// fails validation.
type Inner struct {
	Code string `json:"code" validate:"required,len=3"`
	N    int    `json:"n"`
}

// Embedded is flattened into Rich.
type Embedded struct {
	Extra int `json:"extra" validate:"lte=5"`
}

const richBase = `{"name":"ab","email":"","kind":"c d","level":200,"ratio":0.5,"count":null,"must":0,
"tags":["ab"],"labels":{"xa":1},"nested":{"code":"abc","n":0},"opt":null,"when":"2025-01-31T09:30:00Z",
"color":"","id":"","extra":5,"omitted":"","flag":true,"cross":"x","lang":"en","pair":[1,2],"byNum":{"1":"a"},"any":null}`

func richTopic(t *testing.T) (*topic.Topic, *openapi3.T) {
	t.Helper()
	def := topic.Define("rich", topic.Spec[Rich]{
		Default: Rich{Name: "a", Kind: "a", Ratio: 0.5, Must: new(int), Tags: []string{"ab"},
			Nested: Inner{Code: "abc"}, When: time.Date(2025, 1, 31, 0, 0, 0, 0, time.UTC), Flag: true, Cross: "x"},
	})
	set, err := topic.NewSet([]*topic.Definition{def})
	if err != nil {
		t.Fatal(err)
	}
	rich, _ := set.Lookup("rich")
	return rich, load(t, generate(t, set))
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

// mutate returns richBase with member set to value (a JSON text), or
// without the member when value is "".
func mutate(t *testing.T, member, value string) (body []byte, doc map[string]any) {
	t.Helper()
	if err := json.Unmarshal([]byte(richBase), &doc); err != nil {
		t.Fatal(err)
	}
	if value == "" {
		delete(doc, member)
	} else {
		var v any
		if err := json.Unmarshal([]byte(value), &v); err != nil {
			t.Fatalf("%s: %v", value, err)
		}
		doc[member] = v
	}
	body, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return body, doc
}

// visit validates v as a client-side validator that asserts formats
// would: kin-openapi asserts only date-time, date and byte by default.
func visit(s *openapi3.SchemaRef, v any) error {
	formats := map[string]openapi3.StringFormatValidator{
		"email": openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail),
		"uuid":  openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562),
	}
	return s.Value.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors(), openapi3.WithStringFormatValidators(formats))
}

// TestInputSchemaAgreesWithServer holds RichInput against topic.Replace:
// for each body, the schema accepts it exactly when the server does.
func TestInputSchemaAgreesWithServer(t *testing.T) {
	rich, spec := richTopic(t)
	input := spec.Components.Schemas["RichInput"]
	read := spec.Components.Schemas["Rich"]
	cases := []struct {
		member, value string
		ok            bool
	}{
		{"", "", true},
		{"name", "", false}, {"name", `""`, false}, {"name", `"abcdefghi"`, false}, {"name", `"äöüäöüäö"`, true},
		{"email", "", true}, {"email", `"x"`, false}, {"email", `"a@b.co"`, true},
		{"kind", `"c"`, false}, {"kind", `""`, false}, {"kind", `"b"`, true}, {"kind", "", false},
		{"level", `201`, false}, {"level", `-1`, false}, {"level", `256`, false}, {"level", `0`, true}, {"level", `1.5`, false},
		{"ratio", `0`, false}, {"ratio", `1`, false}, {"ratio", `0.99`, true}, {"ratio", `"0.5"`, false},
		{"count", "", true}, {"count", `1`, false}, {"count", `2`, true}, {"count", `0`, false},
		{"must", "", false}, {"must", `null`, false}, {"must", `7`, true},
		{"tags", `[]`, false}, {"tags", `["ab","ab"]`, false}, {"tags", `["a"]`, false}, {"tags", `["a-"]`, false},
		{"tags", `["ab","cd","ef","gh"]`, false}, {"tags", `["ab","cd","ef"]`, true}, {"tags", "", false},
		{"labels", `{"ya":1}`, false}, {"labels", `{"xa":0}`, false}, {"labels", `{"xa":1,"xb":1,"xc":1}`, false},
		{"labels", `{}`, true}, {"labels", "", true}, {"labels", `{"xa":"1"}`, false},
		{"nested", `{"code":"ab"}`, false}, {"nested", "", false}, {"nested", `{"code":"abc"}`, true}, {"nested", `{"code":"abc","z":1}`, false},
		{"opt", `{"code":"abc","n":1}`, true}, {"opt", `{}`, false}, {"opt", "", true},
		{"when", "", false}, {"when", `"0001-01-01T00:00:00Z"`, false}, {"when", `"nope"`, false}, {"when", `"2025-01-31T09:30:00+02:00"`, true},
		{"color", `"#fff"`, true}, {"color", `"rgb(1,2,3)"`, true}, {"color", `"hsl(10,20%,30%)"`, true}, {"color", `"red"`, false},
		{"id", `"0b3c6a1e-4f3a-4b1c-9d2e-7f8a9b0c1d2e"`, true}, {"id", `"0B3C6A1E-4F3A-4B1C-9D2E-7F8A9B0C1D2E"`, false}, {"id", `"x"`, false},
		{"extra", `6`, false}, {"extra", "", true}, {"extra", `-6`, true},
		{"omitted", `"x"`, true}, {"omitted", "", true},
		{"flag", `false`, false}, {"flag", "", false},
		{"unknown", `1`, false}, {"Hidden", `"x"`, false},
		{"lang", `"pt-BR"`, true}, {"lang", `"x-foo"`, true}, {"lang", `"en_US"`, true}, {"lang", `"zh-Hant-TW"`, true},
		{"lang", `""`, true}, {"lang", `"en--US"`, false}, {"lang", `"abcdefghi"`, false},
		{"pair", `[1]`, false}, {"pair", `[1,2,3]`, false}, {"pair", `[3,4]`, true},
		{"byNum", `{"-1":"a","0":"b"}`, true}, {"byNum", `{"x":"a"}`, false},
		{"any", `{"a":[1,"b"]}`, true}, {"byNum", `{"01":"a"}`, false},
	}
	for _, c := range cases {
		body, doc := mutate(t, c.member, c.value)
		out, serverErr := onto(nil)(rich.PrepareReplace(body))
		if serverErr != nil && !errors.As(serverErr, new(*topic.ValidationError)) {
			t.Fatalf("%s=%s: %v", c.member, c.value, serverErr)
		}
		schemaErr := visit(input, doc)
		if got := serverErr == nil; got != c.ok {
			t.Errorf("%s=%s: server accepts %v, want %v (%v)", c.member, c.value, got, c.ok, serverErr)
		}
		if got := schemaErr == nil; got != c.ok {
			t.Errorf("%s=%s: RichInput accepts %v, want %v (%v)", c.member, c.value, got, c.ok, firstLine(schemaErr))
		}
		if serverErr == nil {
			// What the server stores and sends back must fit the read schema.
			var stored any
			if err := json.Unmarshal(out, &stored); err != nil {
				t.Fatal(err)
			}
			if err := visit(read, stored); err != nil {
				t.Errorf("%s=%s: the stored document %s does not fit Rich: %v", c.member, c.value, out, firstLine(err))
			}
		}
	}
}

// TestUnexpressedRulesAreNamed checks the rules JSON Schema cannot
// express exactly: the schema accepts what the server refuses, and a rule
// it leaves out entirely is named in the description.
func TestUnexpressedRulesAreNamed(t *testing.T) {
	rich, spec := richTopic(t)
	cross := spec.Components.Schemas["RichInput"].Value.Properties["cross"].Value
	if !strings.Contains(cross.Description, "required_with=Name") {
		t.Errorf("cross: description %q does not name the rule", cross.Description)
	}
	body, doc := mutate(t, "cross", "")
	if _, err := onto(nil)(rich.PrepareReplace(body)); err == nil {
		t.Error("the server accepts a missing cross")
	}
	if err := visit(spec.Components.Schemas["RichInput"], doc); err != nil {
		t.Errorf("RichInput refuses a missing cross: %v", firstLine(err))
	}
	// bcp47_language_tag has no exact pattern: the schema admits every tag
	// the server does, and a few more.
	body, doc = mutate(t, "lang", `"a"`)
	if _, err := onto(nil)(rich.PrepareReplace(body)); err == nil {
		t.Error("the server accepts the language tag a")
	}
	if err := visit(spec.Components.Schemas["RichInput"], doc); err != nil {
		t.Errorf("RichInput refuses the language tag a: %v", firstLine(err))
	}
	if d := spec.Components.Schemas["Rich"].Value.Properties["name"].Value.Description; d != "A short name." {
		t.Errorf("name: description %q, want the doc tag", d)
	}
}

func TestReadSchemaRequiresWhatTheServerAlwaysSends(t *testing.T) {
	_, spec := richTopic(t)
	required := spec.Components.Schemas["Rich"].Value.Required
	for _, name := range []string{"name", "email", "count", "opt", "extra", "flag", "kept"} {
		if !strings.Contains(","+strings.Join(required, ",")+",", ","+name+",") {
			t.Errorf("Rich does not require %s, which the server always sends", name)
		}
	}
	for _, name := range []string{"omitted", "Hidden"} {
		if strings.Contains(","+strings.Join(required, ",")+",", ","+name+",") {
			t.Errorf("Rich requires %s", name)
		}
	}
}

// TestPatchSchemaAgreesWithServer holds RichPatch against topic.Merge on
// a valid current document: null is allowed exactly where the reset value
// passes, and nested objects are patches themselves.
func TestPatchSchemaAgreesWithServer(t *testing.T) {
	rich, spec := richTopic(t)
	patch := spec.Components.Schemas["RichPatch"]
	cases := []struct {
		body string
		ok   bool
	}{
		{`{}`, true},
		{`{"email":null}`, true}, {`{"count":null}`, true}, {`{"labels":null}`, true}, {`{"opt":null}`, true},
		{`{"name":null}`, false}, {`{"must":null}`, false}, {`{"tags":null}`, false}, {`{"when":null}`, false}, {`{"nested":null}`, false},
		{`{"nested":{"n":3}}`, true}, {`{"nested":{"code":"ab"}}`, false},
		{`{"labels":{"xa":null,"xb":2}}`, true}, {`{"labels":{"ya":2}}`, false},
		{`{"tags":["cd"]}`, true}, {`{"tags":[]}`, false},
		{`{"bogus":1}`, false}, {`{"level":300}`, false},
	}
	for _, c := range cases {
		_, serverErr := onto([]byte(richBase))(rich.PreparePatch([]byte(c.body)))
		var v any
		if err := json.Unmarshal([]byte(c.body), &v); err != nil {
			t.Fatal(err)
		}
		schemaErr := visit(patch, v)
		if got := serverErr == nil; got != c.ok {
			t.Errorf("%s: server accepts %v, want %v (%v)", c.body, got, c.ok, serverErr)
		}
		if got := schemaErr == nil; got != c.ok {
			t.Errorf("%s: RichPatch accepts %v, want %v (%v)", c.body, got, c.ok, firstLine(schemaErr))
		}
	}
}

func firstLine(err error) string {
	if err == nil {
		return "<nil>"
	}
	line, _, _ := strings.Cut(err.Error(), "\n")
	return line
}
