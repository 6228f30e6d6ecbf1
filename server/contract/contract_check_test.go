package contract_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// committedPath is the repository's openapi.yaml: the document of the
// demo topics, which clients are generated from and the suite holds the
// server against.
const committedPath = "../../openapi.yaml"

// contract holds every exchange of a test run against openapi.yaml.
type contract struct {
	spec   *openapi3.T
	router routers.Router

	mu   sync.Mutex
	seen map[string]map[int]bool // operationId → statuses answered
}

func newContract(t *testing.T) *contract {
	t.Helper()
	raw, err := os.ReadFile(committedPath)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatalf("loading openapi.yaml: %v", err)
	}
	router, err := gorillamux.NewRouter(spec)
	if err != nil {
		t.Fatal(err)
	}
	return &contract{spec: spec, router: router, seen: make(map[string]map[int]bool)}
}

// headers that belong to HTTP itself rather than to the API.
var transportHeaders = []string{"Content-Type", "Content-Length", "Date", "Transfer-Encoding", "Connection",
	// The security headers every answer carries (server/security.go).
	"X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Content-Security-Policy"}

// call is one request of the suite.
type call struct {
	method, path string
	headers      []string // name, value, name, value, ...
	body         string
	// invalid says that the request breaks the document, so that the
	// document's own validator must refuse it: the suite sends such
	// requests on purpose, to see the error statuses.
	invalid bool
	want    int // the status the scenario expects
}

// reply is what the server answered.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) etag() string { return r.header.Get("ETag") }

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return m
}

func (c call) request(ctx context.Context, base string) *http.Request {
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, base+c.path, body)
	if err != nil {
		panic(err) // the suite's own paths
	}
	for i := 0; i+1 < len(c.headers); i += 2 {
		req.Header.Add(c.headers[i], c.headers[i+1])
	}
	return req
}

func (c call) String() string { return c.method + " " + c.path }

// check validates one request before it is sent. It returns the route,
// or nil for a request the document has no operation for.
func (k *contract) checkRequest(t *testing.T, c call, base string) *openapi3filter.RequestValidationInput {
	t.Helper()
	req := c.request(context.Background(), base)
	route, params, err := k.router.FindRoute(req)
	if err != nil {
		return nil
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			MultiError:         true,
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		},
	}
	err = openapi3filter.ValidateRequest(context.Background(), in)
	switch {
	case c.invalid && err == nil:
		t.Errorf("%s: the document accepts a request the scenario breaks on purpose", c)
	case !c.invalid && err != nil:
		t.Errorf("%s: the request breaks the document: %v", c, err)
	}
	// ValidateRequest consumed the body: a fresh request goes out.
	in.Request = c.request(context.Background(), base)
	return in
}

// checkResponse validates an answer against the operation it came from,
// and records its status for the coverage check.
func (k *contract) checkResponse(t *testing.T, c call, in *openapi3filter.RequestValidationInput, r reply, stream bool) {
	t.Helper()
	op := in.Route.Operation
	ref := op.Responses.Status(r.status)
	if ref == nil || ref.Value == nil {
		t.Errorf("%s: status %d is not documented for %s (%s)", c, r.status, op.OperationID, r.body)
		return
	}
	k.mu.Lock()
	if k.seen[op.OperationID] == nil {
		k.seen[op.OperationID] = make(map[int]bool)
	}
	k.seen[op.OperationID][r.status] = true
	k.mu.Unlock()

	err := openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 r.status,
		Header:                 r.header,
		Body:                   io.NopCloser(bytes.NewReader(r.body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
			// A stream never ends; its events are checked one by one.
			ExcludeResponseBody: stream,
		},
	})
	if err != nil {
		t.Errorf("%s: the %d answer breaks the document: %v", c, r.status, err)
	}
	k.checkHeaders(t, c, ref.Value, r)
	if len(ref.Value.Content) == 0 && len(r.body) > 0 {
		t.Errorf("%s: the %d answer has a body the document does not describe: %q", c, r.status, r.body)
	}
}

// checkHeaders does what ValidateResponse leaves out: it fails on a
// header the document does not declare, and checks declared ones on
// every status (ValidateResponse skips 304 altogether).
func (k *contract) checkHeaders(t *testing.T, c call, resp *openapi3.Response, r reply) {
	t.Helper()
	declared := make(map[string]*openapi3.Header)
	for name, h := range resp.Headers {
		declared[http.CanonicalHeaderKey(name)] = h.Value
	}
	for name, values := range r.header {
		h, ok := declared[name]
		// docs/protocol.md: an answer that sets a cookie is private, and
		// varies by cookie, whatever else it is.
		setsCookie := r.header.Get("Set-Cookie") != ""
		if !ok && setsCookie && (name == "Vary" && values[0] == "Cookie" || name == "Cache-Control" && values[0] == "private, no-cache") {
			continue
		}
		if !ok {
			if !slices.Contains(transportHeaders, name) {
				t.Errorf("%s: the %d answer has a header the document does not declare: %s: %q", c, r.status, name, values)
			}
			continue
		}
		if err := headerValue(h.Schema.Value, values[0]); err != nil {
			t.Errorf("%s: %d answer, header %s: %v", c, r.status, name, err)
		}
	}
	for name, h := range declared {
		if h.Required && r.header.Get(name) == "" {
			t.Errorf("%s: the %d answer lacks the required header %s", c, r.status, name)
		}
	}
}

func headerValue(s *openapi3.Schema, v string) error {
	var value any = v
	if s.Type.Is("integer") {
		n, err := strconv.Atoi(v)
		if err != nil {
			return err
		}
		value = float64(n)
	}
	return s.VisitJSON(value, openapi3.EnableJSONSchema2020())
}

// checkUnmatched checks an answer to a request the document has no
// operation for: as its description says, 404 (or 405 on the routes
// outside /api) with a Problem.
func (k *contract) checkUnmatched(t *testing.T, c call, r reply) {
	t.Helper()
	if r.status != http.StatusNotFound && r.status != http.StatusMethodNotAllowed {
		t.Errorf("%s: no operation, and status %d is neither 404 nor 405: %s", c, r.status, r.body)
	}
	if r.status == http.StatusMethodNotAllowed && r.header.Get("Allow") == "" {
		t.Errorf("%s: 405 without Allow", c)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("%s: Content-Type %q, want application/problem+json", c, ct)
	}
	k.checkSchema(t, c.String(), "Problem", r.body)
}

// checkSchema validates a JSON text against a component schema.
func (k *contract) checkSchema(t *testing.T, what, name string, text []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(text, &v); err != nil {
		t.Errorf("%s: %q is not JSON: %v", what, text, err)
		return
	}
	s := k.spec.Components.Schemas[name]
	if s == nil {
		t.Fatalf("no schema %s", name)
	}
	if err := s.Value.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors()); err != nil {
		t.Errorf("%s: %s does not fit %s: %v", what, text, name, err)
	}
}

// checkCoverage fails for every operation never exercised and every
// documented status never answered, except those in unreachable.
func (k *contract) checkCoverage(t *testing.T, unreachable map[string]map[int]string) {
	t.Helper()
	var missing []string
	for path, item := range k.spec.Paths.Map() {
		for method, op := range item.Operations() {
			seen := k.seen[op.OperationID]
			if seen == nil {
				missing = append(missing, fmt.Sprintf("%s %s (%s): never called", method, path, op.OperationID))
				continue
			}
			for code := range op.Responses.Map() {
				status, err := strconv.Atoi(code)
				if err != nil {
					t.Errorf("%s: response %q is not a status", op.OperationID, code)
					continue
				}
				if !seen[status] && unreachable[op.OperationID][status] == "" {
					missing = append(missing, fmt.Sprintf("%s: documented %d never answered", op.OperationID, status))
				}
			}
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Error(m)
	}
}

// checkEvent validates an event against the schema that x-sse-events
// names for it.
func (k *contract) checkEvent(t *testing.T, ev event, want string) {
	t.Helper()
	if ev.name != want {
		t.Errorf("event %q (%s), want %q", ev.name, ev.data, want)
	}
	if ev.id == "" {
		t.Errorf("%s event without an id", ev.name)
	}
	op := k.spec.Paths.Find("/api/events").Get
	events, _ := op.Responses.Status(http.StatusOK).Value.Content.Get("text/event-stream").Extensions["x-sse-events"].(map[string]any)
	desc, _ := events[ev.name].(map[string]any)
	data, _ := desc["data"].(map[string]any)
	ref, _ := data["$ref"].(string)
	name, ok := strings.CutPrefix(ref, "#/components/schemas/")
	if !ok {
		t.Errorf("x-sse-events does not describe the %q event", ev.name)
		return
	}
	k.checkSchema(t, ev.name+" event", name, []byte(ev.data))
}
