package openapi

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/pinionkit/pinion/openapi/jsonschema"
	"github.com/pinionkit/pinion/protocol"
	"github.com/pinionkit/pinion/topic"
)

// paths describes every declared operation. Operations keep their
// declared order, except that the per-topic and per-action ones are
// described topic by topic where the first of them is declared, so that a
// topic's routes stay together.
func (d *document) paths(ops []Operation) error {
	var perTopic []Operation
	for _, op := range ops {
		if strings.Contains(op.Path, "{topic}") {
			perTopic = append(perTopic, op)
		}
	}
	topicsDone := false
	for _, op := range ops {
		if !strings.Contains(op.Path, "{topic}") {
			if err := d.fixedOperation(op); err != nil {
				return err
			}
			continue
		}
		if topicsDone {
			continue
		}
		topicsDone = true
		for _, t := range d.topics {
			if err := d.topicOperations(t, perTopic); err != nil {
				return err
			}
		}
	}
	return nil
}

// fixedOperation describes an operation that is the same for every topic.
func (d *document) fixedOperation(op Operation) error {
	var body *object
	switch op.Request {
	case noBody:
	case FreshnessBody:
		body = jsonBody(protocol.MediaJSON, "FreshnessReport")
	default:
		return fmt.Errorf("openapi: %s %s: a body needs a topic", op.Method, op.Path)
	}
	o, err := d.operation(op, op.ID, op.Summary, op.Description, op.Tag, nil, "", body)
	if err != nil {
		return err
	}
	d.addOperation(op.Path, op.Method, o)
	return nil
}

// topicOperations describes the per-topic and per-action operations of t.
func (d *document) topicOperations(t *topic.Topic, ops []Operation) error {
	name, p := t.Name(), jsonschema.Pascal(t.Name())
	sc := jsonschema.Scope{Name: name, Prefix: p}
	about := t.Description() + " " + scopeNote(t)
	tag := Tag{Name: name, Description: about}

	doc := d.types.Component(sc, t.Type(), jsonschema.Read, p, t.Description())
	// The document of a topic never written (and what a reset restores),
	// as the registry encodes it: clients generate their initial state
	// from it instead of copying it by hand.
	def, err := jsonschema.ParseValue(t.Default())
	if err != nil {
		return fmt.Errorf("openapi: the default document of %s: %w", name, err)
	}
	d.types.SetDefault(doc, def)
	var input, patch string
	bodies := func(r Request) string {
		switch r {
		case DocumentBody:
			if input == "" {
				input = d.types.Component(sc, t.Type(), jsonschema.Input, p+"Input",
					"The whole "+name+" document as a client sends it with PUT. A member left out reads as its zero value, so a member whose zero value fails validation is required.")
			}
			return input
		case PatchBody:
			if patch == "" {
				patch = d.types.Component(sc, t.Type(), jsonschema.Patch, p+"Patch",
					"An RFC 7396 merge patch of the "+name+" document: the members to change. Objects are patched member by member, arrays are replaced whole, and null resets a member to its zero value. The merged document must be valid.")
			}
			return patch
		}
		return ""
	}
	// The schemas are claimed in this order whatever the order of the
	// operations, so that component names do not depend on it.
	for _, r := range []Request{DocumentBody, PatchBody} {
		for _, op := range ops {
			if op.Request == r {
				bodies(r)
				break
			}
		}
	}
	snap := d.snapshot(t, p, doc)

	expand := func(s string, a *topic.ActionInfo) string {
		s = strings.ReplaceAll(s, "{topic}", name)
		s = strings.ReplaceAll(s, "{about}", about)
		if a != nil {
			s = strings.ReplaceAll(s, "{action}", a.Name)
			s = strings.TrimSpace(strings.ReplaceAll(s, "{actionAbout}", a.Description))
		}
		return s
	}
	for _, op := range ops {
		if strings.Contains(op.Path, "{action}") {
			continue
		}
		var body *object
		if op.Request != noBody {
			body = jsonBody(requestMedia(op.Request), bodies(op.Request))
		}
		o, err := d.operation(op, d.opIDs.Claim(op.ID+p), expand(op.Summary, nil), expand(op.Description, nil), tag, t, snap, body)
		if err != nil {
			return err
		}
		d.addOperation(strings.ReplaceAll(op.Path, "{topic}", name), op.Method, o)
	}
	for _, a := range t.Actions() {
		var in string
		for _, op := range ops {
			if !strings.Contains(op.Path, "{action}") {
				continue
			}
			if in == "" {
				in = d.types.Component(sc, a.Input, jsonschema.Input, p+jsonschema.Pascal(a.Name)+"Input", "The input of the "+a.Name+" action of "+name+".")
			}
			o, err := d.operation(op, d.opIDs.Claim(camel(name)+jsonschema.Pascal(a.Name)), expand(op.Summary, &a), expand(op.Description, &a), tag, t, snap,
				jsonBody(requestMedia(op.Request), in))
			if err != nil {
				return err
			}
			path := strings.ReplaceAll(strings.ReplaceAll(op.Path, "{topic}", name), "{action}", a.Name)
			d.addOperation(path, op.Method, o)
		}
	}
	return nil
}

// camel is jsonschema.Pascal with a lower-case first letter, for the
// operation ids of actions ("cartAddItem").
func camel(name string) string {
	rs := []rune(jsonschema.Pascal(name))
	if len(rs) == 0 {
		return ""
	}
	rs[0] = unicode.ToLower(rs[0])
	return string(rs)
}

func requestMedia(r Request) string {
	if r == PatchBody {
		return protocol.MediaMergePatch
	}
	return protocol.MediaJSON
}

// operation describes one operation; t and snap are its topic and the
// name of the topic's snapshot response, for per-topic operations; body
// is its request body, if any.
func (d *document) operation(op Operation, id, summary, description string, tag Tag, t *topic.Topic, snap string, body *object) (*object, error) {
	d.useTag(tag)
	o := newObject().
		Set("summary", summary).
		Opt("description", description).
		Set("operationId", id).
		Set("tags", []any{tag.Name})
	if op.Public {
		o.Set("security", []any{})
	}
	if len(op.Params) > 0 {
		params := make([]any, len(op.Params))
		for i, name := range op.Params {
			params[i] = d.parameter(name)
		}
		o.Set("parameters", params)
	}
	if body != nil {
		o.Set("requestBody", body)
	}
	responses := newObject()
	for _, r := range op.Responses {
		if r.Body.kind == snapshotBody {
			if t == nil {
				return nil, fmt.Errorf("openapi: %s %s: a snapshot needs a topic", op.Method, op.Path)
			}
			responses.Set(strconv.Itoa(r.Status), refTo("responses", snap))
			continue
		}
		resp := newObject().Set("description", r.Description)
		if len(r.Headers) > 0 {
			headers := newObject()
			for _, h := range r.Headers {
				if h == HeaderTopicCache {
					if t == nil {
						return nil, fmt.Errorf("openapi: %s %s: cache headers need a topic", op.Method, op.Path)
					}
					d.cacheHeaders(headers, t)
					continue
				}
				headers.Set(headerName(h), d.header(h))
			}
			resp.Set("headers", headers)
		}
		switch r.Body.kind {
		case schemaBody:
			resp.Set("content", newObject().Set(r.Body.media, newObject().Set("schema", schemaRef(r.Body.schema))))
		case streamBody:
			resp.Set("description", streamDescription).Set("content", streamContent())
		case statusBody:
			resp.Set("content", statusContent(r.Body.schema))
		case documentBody:
			resp.Set("content", documentContent())
		}
		responses.Set(strconv.Itoa(r.Status), resp)
	}
	d.withErrors(responses, op.Errors...)
	return o.Set("responses", responses), nil
}

// addOperation adds o to the path item of path.
func (d *document) addOperation(path, method string, o *object) {
	item, ok := d.pathItems[path]
	if !ok {
		item = newObject()
		d.pathItems[path] = item
		d.pathsObj.Set(path, item)
	}
	item.Set(strings.ToLower(method), o)
}

// useTag declares a tag on its first use.
func (d *document) useTag(t Tag) {
	if d.tagged[t.Name] {
		return
	}
	d.tagged[t.Name] = true
	d.tags = append(d.tags, newObject().Set("name", t.Name).Set("description", t.Description))
}

// withErrors adds the shared responses of statuses to responses.
func (d *document) withErrors(responses *object, statuses ...int) *object {
	for _, status := range statuses {
		responses.Set(strconv.Itoa(status), d.errorResponse(status))
	}
	return responses
}

func jsonBody(media, schemaName string) *object {
	return newObject().Set("required", true).
		Set("content", newObject().Set(media, newObject().Set("schema", schemaRef(schemaName))))
}

func scopeNote(t *topic.Topic) string {
	switch t.Scope() {
	case topic.PerPrincipal:
		return "Scope: per-principal. Every caller has a document of their own under this name; the URL never names the principal."
	case topic.PerTenant:
		return "Scope: per-tenant. Every tenant has a document of its own under this name; the tenant comes from the caller's verified credential, never from the URL."
	}
	return "Scope: shared. One document for everyone allowed to read it."
}

// cacheHeaders adds the cache headers a snapshot of t is sent with.
func (d *document) cacheHeaders(h *object, t *topic.Topic) *object {
	if t.Scope() != topic.Shared {
		return h.Set("Cache-Control", d.header(HeaderPrivateNoCache)).Set("Vary", d.header(HeaderVaryPrincipal))
	}
	return h.Set("Cache-Control", d.header(HeaderNoCache)).Set("Vary", d.header("VaryCookie"))
}

// snapshot adds the snapshot schema of a topic and the response that
// carries it, and returns their name.
func (d *document) snapshot(t *topic.Topic, p, doc string) string {
	name := d.types.Claim(p + "Snapshot")
	d.types.Add(name, closed("A snapshot of "+t.Name()+": exactly the SnapshotEnvelope of @statesync/core.", []string{"revision", "data"},
		newObject().Set("revision", schemaRef("Revision")).Set("data", schemaRef(doc))))
	d.responses[name] = newObject().
		Set("description", "The caller's "+t.Name()+" document and its revision. A document never written is the default at the initial revision.").
		Set("headers", d.cacheHeaders(newObject().Set("ETag", d.header(HeaderETag)), t).Set("Set-Cookie", d.header(HeaderSetCookie))).
		Set("content", newObject().Set(protocol.MediaJSON, newObject().Set("schema", schemaRef(name))))
	return name
}
