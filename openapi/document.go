package openapi

import (
	"maps"
	"slices"
	"strings"

	"github.com/pinionkit/pinion/openapi/jsonschema"
	"github.com/pinionkit/pinion/topic"
)

// document is an OpenAPI document under construction.
type document struct {
	opts   Options
	topics []*topic.Topic
	types  *jsonschema.Compiler
	opIDs  *jsonschema.Names

	pathsObj  *object
	pathItems map[string]*object
	tags      []any
	tagged    map[string]bool
	// Reusable responses, parameters and headers are added the first
	// time an operation refers to them, so that none goes unused.
	responses  map[string]*object
	parameters map[string]*object
	headers    map[string]*object
}

// sharedSchemas are the component names of the protocol's own schemas;
// topic schemas never take them.
var sharedSchemas = []string{
	"Cursor", "FieldError", "FreshnessReport", "FreshnessSample", "Invalidation", "PreconditionProblem", "Problem", "Ready",
	"Revision", "SourceId", "TopicList", "TopicName", "TopicSummary", "ValidationProblem",
}

func newDocument(set *topic.Set, ops []Operation, opts Options) *document {
	// The fixed operations' ids are reserved, so that a topic's operation
	// never takes one.
	var fixed []string
	for _, op := range ops {
		if !strings.Contains(op.Path, "{topic}") {
			fixed = append(fixed, op.ID)
		}
	}
	return &document{
		opts:       opts,
		topics:     set.All(),
		types:      jsonschema.New(set, sharedSchemas...),
		opIDs:      jsonschema.NewNames(fixed...),
		pathsObj:   newObject(),
		pathItems:  make(map[string]*object),
		tagged:     make(map[string]bool),
		responses:  make(map[string]*object),
		parameters: make(map[string]*object),
		headers:    make(map[string]*object),
	}
}

// build assembles the whole document.
func (d *document) build(ops []Operation) (*object, error) {
	d.sharedSchemas()
	if err := d.paths(ops); err != nil {
		return nil, err
	}

	components := newObject().
		Set("schemas", d.types.Schemas()).
		Set("responses", sorted(d.responses)).
		Set("parameters", sorted(d.parameters)).
		Set("headers", sorted(d.headers)).
		Set("securitySchemes", newObject().Set("session", newObject().
			Set("type", "apiKey").
			Set("in", "cookie").
			Set("name", d.opts.SessionCookie).
			Set("description", "The development authenticator's session cookie (HttpOnly, SameSite=Lax). "+
				"A browser sends it by itself; the server sets it on first contact, so the first request may go without it. "+
				"A server with another authenticator documents its own scheme.")).
			Set("bearer", newObject().
				Set("type", "http").
				Set("scheme", "bearer").
				Set("bearerFormat", "JWT").
				Set("description", "A JSON Web Token, accepted when the server runs with -auth jwt: in the Authorization header on every "+
					"route, the event stream included, or exchanged once for an HttpOnly session cookie with POST /api/session "+
					"(what a browser's EventSource needs, since it cannot send headers).")))

	return newObject().
		Set("openapi", "3.1.0").
		Set("info", newObject().
			Set("title", d.opts.Title).
			Set("version", d.opts.Version).
			Set("description", d.description()).
			Set("license", d.license())).
		Set("servers", []any{newObject().Set("url", "/")}).
		// The session cookie, a bearer token (-auth jwt), or nothing: in
		// development the cookie is set by the first answer.
		Set("security", []any{newObject().Set("session", []any{}), newObject().Set("bearer", []any{}), newObject()}).
		Set("tags", d.tags).
		Set("paths", d.pathsObj).
		Set("components", components), nil
}

func (d *document) description() string {
	text := `Pinion keeps named JSON documents, *topics*, on the server and tells every browser tab when one changes. It speaks the invalidation → pull → apply-if-newer protocol of ` + "`@statesync/core`" + ` over plain HTTP and Server-Sent Events.

- Read a topic with ` + "`GET /api/topics/{topic}`" + `: a snapshot ` + "`{revision, data}`" + ` with a strong ` + "`ETag`" + `.
- Change it with ` + "`PUT`" + ` (replace), ` + "`PATCH`" + ` (RFC 7396 merge patch), ` + "`DELETE`" + ` (reset to the default) or ` + "`POST /api/topics/{topic}/actions/{action}`" + ` (a named command). Every successful write answers the new snapshot and raises one invalidation on the event stream.
- Listen to ` + "`GET /api/events`" + `, and fetch a topic again when an invalidation names a revision newer than the one you hold.

A revision is the decimal form of an unsigned 64-bit integer: compare revisions as numbers (for example with BigInt), never as strings.

Every error is ` + "`application/problem+json`" + ` (RFC 9457). A topic, an action or any other path under /api that does not exist answers 404 with a Problem, whatever the method; /healthz, /readyz and /openapi.yaml answer 405 with a Problem and an ` + "`Allow`" + ` header to other methods. Other paths serve the web app, when the server has one. When the server allows other origins, CORS preflights and headers come on top of what is described here.

Who is asking is decided by the server's authenticator. The development default gives every browser its own principal through an HttpOnly cookie that it sets on first contact. Per-principal topics keep one document per principal; the URL never names the principal.

For every topic, ` + "`<Topic>`" + ` is the document as the server sends it (every member present; its ` + "`default`" + ` is the document of a topic never written, which a reset restores), ` + "`<Topic>Input`" + ` the document a client sends with PUT (a member whose zero value would fail validation is required, since a missing member reads as its zero value), and ` + "`<Topic>Patch`" + ` the body of PATCH. This document is generated by Pinion from the registered topics.`
	if d.opts.Description != "" {
		text = strings.TrimSpace(d.opts.Description) + "\n\n" + text
	}
	return text
}

func (d *document) license() *object {
	if d.opts.License == "" {
		return nil
	}
	return newObject().Set("name", d.opts.License).Set("identifier", d.opts.License)
}

// sorted is a component map with its names in order; nil when empty, so
// that an unused kind of component is left out.
func sorted(m map[string]*object) *object {
	if len(m) == 0 {
		return nil
	}
	o := newObject()
	for _, name := range slices.Sorted(maps.Keys(m)) {
		o.Set(name, m[name])
	}
	return o
}

// refTo is a reference to a component of the given kind.
func refTo(kind, name string) *object {
	return newObject().Set("$ref", "#/components/"+kind+"/"+name)
}
