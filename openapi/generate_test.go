package openapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/pinionkit/pinion/demo"
	"github.com/pinionkit/pinion/openapi"
	"github.com/pinionkit/pinion/server"
	"github.com/pinionkit/pinion/topic"
)

// committedPath is the repository's openapi.yaml: the document of the
// demo topics, which clients are generated from.
const committedPath = "../openapi.yaml"

// demoSet registers fresh demo topics: a topic belongs to one Set.
func demoSet(t *testing.T) *topic.Set {
	t.Helper()
	set, err := topic.NewSet(demo.Topics())
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func generate(t *testing.T, set *topic.Set) []byte {
	t.Helper()
	doc, err := server.OpenAPI(set, openapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// load parses and validates a document with kin-openapi.
func load(t *testing.T, doc []byte) *openapi3.T {
	t.Helper()
	spec, err := openapi3.NewLoader().LoadFromData(doc)
	if err != nil {
		t.Fatalf("loading the document: %v", err)
	}
	if err := spec.Validate(context.Background()); err != nil {
		t.Fatalf("the document is not valid OpenAPI: %v", err)
	}
	return spec
}

func TestCommittedDocumentIsFresh(t *testing.T) {
	committed, err := os.ReadFile(committedPath)
	if err != nil {
		t.Fatalf("openapi.yaml is missing: run `make openapi` (%v)", err)
	}
	fresh := generate(t, demoSet(t))
	if !bytes.Equal(committed, fresh) {
		t.Fatalf("openapi.yaml is stale: run `make openapi` (first difference at line %d)", firstDifference(committed, fresh))
	}
}

func firstDifference(a, b []byte) int {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return i + 1
		}
	}
	return min(len(al), len(bl)) + 1
}

func TestGenerateIsDeterministic(t *testing.T) {
	first := generate(t, demoSet(t))
	for range 3 {
		if again := generate(t, demoSet(t)); !bytes.Equal(first, again) {
			t.Fatalf("two runs differ at line %d", firstDifference(first, again))
		}
	}
}

func TestDocumentIsValidOpenAPI31(t *testing.T) {
	spec := load(t, generate(t, demoSet(t)))
	if !spec.IsOpenAPI31OrLater() {
		t.Fatalf("openapi %s, want 3.1", spec.OpenAPI)
	}
	if len(spec.Servers) != 1 || spec.Servers[0].URL != "/" {
		t.Fatalf("servers %v, want one with url /: a host would stop routers from matching test servers", spec.Servers)
	}
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" || op.Summary == "" || len(op.Tags) != 1 {
				t.Errorf("%s %s: needs an operationId, a summary and one tag", method, path)
			} else if spec.Tags.Get(op.Tags[0]) == nil {
				t.Errorf("%s %s: tag %q is not declared", method, path, op.Tags[0])
			}
		}
	}
}

// Every component must be referenced: the linter's no-unused-components
// rule cannot see references inside x-sse-events, so this test keeps
// what the rule would check for every other component.
func TestEveryComponentIsReferenced(t *testing.T) {
	doc := string(generate(t, demoSet(t)))
	spec := load(t, []byte(doc))
	check := func(kind string, names []string) {
		for _, name := range names {
			if !strings.Contains(doc, "'#/components/"+kind+"/"+name+"'") {
				t.Errorf("components/%s/%s is never referenced", kind, name)
			}
		}
	}
	var names []string
	for name := range spec.Components.Schemas {
		names = append(names, name)
	}
	check("schemas", names)
	names = names[:0]
	for name := range spec.Components.Responses {
		names = append(names, name)
	}
	check("responses", names)
	names = names[:0]
	for name := range spec.Components.Parameters {
		names = append(names, name)
	}
	check("parameters", names)
	names = names[:0]
	for name := range spec.Components.Headers {
		names = append(names, name)
	}
	check("headers", names)
}

func TestSharedTypesAndNamesStayUnique(t *testing.T) {
	type Doc struct {
		N int `json:"n"`
	}
	// Two topic names that differ only in punctuation map to the same
	// identifiers; a topic named like a shared schema must not take it.
	set, err := topic.NewSet([]*topic.Definition{
		topic.Define("app-settings", topic.Spec[Doc]{}),
		topic.Define("app.settings", topic.Spec[Doc]{}),
		topic.Define("problem", topic.Spec[Doc]{}),
	})
	if err != nil {
		t.Fatal(err)
	}
	spec := load(t, generate(t, set))
	for _, name := range []string{"AppSettings", "AppSettings2", "Problem", "Problem2", "AppSettingsSnapshot", "AppSettingsSnapshot2"} {
		if spec.Components.Schemas[name] == nil {
			t.Errorf("no schema %s", name)
		}
	}
	if p := spec.Components.Schemas["Problem"].Value; p.Properties["detail"] == nil {
		t.Error("the topic named problem took the Problem schema")
	}
	ids := make(map[string]bool)
	for _, item := range spec.Paths.Map() {
		for _, op := range item.Operations() {
			if ids[op.OperationID] {
				t.Errorf("operationId %s is used twice", op.OperationID)
			}
			ids[op.OperationID] = true
		}
	}
	for _, id := range []string{"getAppSettings", "getAppSettings2", "getProblem"} {
		if !ids[id] {
			t.Errorf("no operation %s", id)
		}
	}
}

func TestGenerateWithoutTopicSet(t *testing.T) {
	if _, err := server.OpenAPI(nil, openapi.Options{}); err == nil {
		t.Fatal("no error for a nil set")
	}
}

// Each topic's document schema carries the topic's default document as
// its JSON Schema default, equal to what the registry holds (nulls,
// number literals, empty arrays and member order included) and valid
// against the schema itself, so that clients can generate their initial
// state from the document.
func TestDocumentSchemaCarriesDefault(t *testing.T) {
	rich, richSpec := richTopic(t)
	set := demoSet(t)
	demoSpec := load(t, generate(t, set))
	type check struct {
		tp     *topic.Topic
		spec   *openapi3.T
		schema string
	}
	cases := []check{{rich, richSpec, "Rich"}}
	names := map[string]string{"app-settings": "AppSettings", "user-preferences": "UserPreferences", "cart": "Cart"}
	for _, tp := range set.All() {
		cases = append(cases, check{tp, demoSpec, names[tp.Name()]})
	}
	for _, c := range cases {
		t.Run(c.tp.Name(), func(t *testing.T) {
			ref := c.spec.Components.Schemas[c.schema]
			if ref == nil {
				t.Fatalf("no schema %s", c.schema)
			}
			s := ref.Value
			if s.Default == nil {
				t.Fatalf("%s has no default", c.schema)
			}
			got, err := json.Marshal(s.Default)
			if err != nil {
				t.Fatal(err)
			}
			var want, have any
			if err := json.Unmarshal(c.tp.Default(), &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(got, &have); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(have, want) {
				t.Fatalf("default %s\nwant %s", got, c.tp.Default())
			}
			if err := s.VisitJSON(have, openapi3.EnableJSONSchema2020()); err != nil {
				t.Fatalf("the default fails its own schema: %v", err)
			}
		})
	}
	// Only the document schema carries it: an input or a patch has no
	// default a server would fill in.
	for _, name := range []string{"AppSettingsInput", "AppSettingsPatch", "CartAddItemInput"} {
		if demoSpec.Components.Schemas[name].Value.Default != nil {
			t.Errorf("%s has a default", name)
		}
	}
}
