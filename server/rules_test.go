package server_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-playground/validator/v10"
	"github.com/pinionkit/pinion/auth"
	"github.com/pinionkit/pinion/server"
	"github.com/pinionkit/pinion/server/servertest"
	"github.com/pinionkit/pinion/store/memory"
	"github.com/pinionkit/pinion/topic"
)

// Stock is a document checked by two custom rules: sku has a schema form,
// even has none.
type Stock struct {
	SKU  string `json:"sku" validate:"sku"`
	Pair int    `json:"pair" validate:"even"`
}

// A rule registered with topic.WithRule gets both of what it declares:
// its message in the 422 answer to a real write, and its schema form in
// the document the same server serves. The generator asks the registry,
// so the rule also decides what the document requires: the zero value
// of sku fails the rule, so a client must send it.
func TestCustomRuleInAnswerAndDocument(t *testing.T) {
	skuPattern := `^[A-Z]{2}-[0-9]{4}$`
	isSKU := func(fl validator.FieldLevel) bool {
		return regexp.MustCompile(skuPattern).MatchString(fl.Field().String())
	}
	isEven := func(fl validator.FieldLevel) bool { return fl.Field().Int()%2 == 0 }
	set, err := topic.NewSet([]*topic.Definition{
		topic.Define("stock", topic.Spec[Stock]{Default: Stock{SKU: "AB-1234"}}),
	},
		topic.WithRule("sku", isSKU, topic.Rule{Message: "must be a stock-keeping unit like AB-1234", Pattern: skuPattern}),
		topic.WithRule("even", isEven, topic.Rule{Message: "must be an even number"}),
	)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Addr: "127.0.0.1:0"}, memory.Open(), set, auth.Cookie{Key: auth.NewKey()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, base: servertest.Run(t, srv), srv: srv}
	b := h.browser()

	p := b.do("PUT", "/api/topics/stock", `{"sku":"ab-12","pair":3}`, "Content-Type", "application/json").problem(t, 422)
	var got []string
	for _, e := range p.Errors {
		got = append(got, e.Pointer+" "+e.Rule+": "+e.Message)
	}
	want := []string{"/pair even: pair must be an even number", "/sku sku: sku must be a stock-keeping unit like AB-1234"}
	if !slices.Equal(got, want) {
		t.Errorf("errors %q\nwant %q", got, want)
	}
	b.do("PUT", "/api/topics/stock", `{"sku":"CD-0001","pair":4}`, "Content-Type", "application/json").snapshot(t)

	doc := b.do("GET", "/openapi.yaml", "")
	if doc.status != 200 {
		t.Fatalf("GET /openapi.yaml: %d", doc.status)
	}
	spec, err := openapi3.NewLoader().LoadFromData([]byte(doc.body))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Stock", "StockInput", "StockPatch"} {
		s := spec.Components.Schemas[name].Value
		sku, pair := s.Properties["sku"].Value, s.Properties["pair"].Value
		if sku.Pattern != skuPattern {
			t.Errorf("%s.sku pattern %q, want the rule's %q", name, sku.Pattern, skuPattern)
		}
		if strings.Contains(sku.Description, "sku") {
			t.Errorf("%s.sku: a rule with a schema form is named in the description too: %q", name, sku.Description)
		}
		if !strings.Contains(pair.Description, "The server also checks: even.") {
			t.Errorf("%s.pair: a rule without a schema form must be named in the description: %q", name, pair.Description)
		}
	}
	// 0 is even, so pair may be left out (or reset with null in a patch);
	// "" is not a stock-keeping unit, so sku may not.
	if in := spec.Components.Schemas["StockInput"].Value; !slices.Contains(in.Required, "sku") || slices.Contains(in.Required, "pair") {
		t.Errorf("StockInput requires %v, want sku and not pair", in.Required)
	}
	patch := spec.Components.Schemas["StockPatch"].Value
	if patch.Properties["sku"].Value.Type.Includes("null") || !patch.Properties["pair"].Value.Type.Includes("null") {
		t.Errorf("StockPatch: sku admits null %v, pair admits null %v; want false, true",
			patch.Properties["sku"].Value.Type.Includes("null"), patch.Properties["pair"].Value.Type.Includes("null"))
	}
}
