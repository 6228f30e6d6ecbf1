package contract_test

import (
	"context"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/pinionkit/pinion/demo"
	"github.com/pinionkit/pinion/topic"
)

// committedPath is the repository's openapi.yaml: the document of the
// demo topics, which clients are generated from and the suite holds the
// server against.
const committedPath = "../../openapi.yaml"

// demoSet compiles the demo topics into a registry.
func demoSet(t *testing.T) *topic.Set {
	t.Helper()
	set, err := topic.NewSet(demo.Topics())
	if err != nil {
		t.Fatal(err)
	}
	return set
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
