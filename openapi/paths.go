package openapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/pinionkit/pinion/topic"
)

// Statuses of the write operations, besides 200.
var (
	bodyWriteErrors = []int{
		http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusPreconditionFailed,
		http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity,
		http.StatusInternalServerError,
	}
	resetErrors = []int{
		http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusPreconditionFailed,
		http.StatusInternalServerError,
	}
)

// operation starts an operation object. id is used as it is: the fixed
// operations' ids are reserved, and the others are claimed by the caller.
func operation(id, summary, description, tag string) *object {
	return newObject().
		set("summary", summary).
		opt("description", description).
		set("operationId", id).
		set("tags", []any{tag})
}

// topicOperation starts an operation of a topic, whose id is made unique
// (two topic names may differ only in punctuation).
func (d *document) topicOperation(id, summary, description, tag string) *object {
	return operation(d.opIDs.claim(id), summary, description, tag)
}

// withErrors adds the shared responses of statuses to responses.
func (d *document) withErrors(responses *object, statuses ...int) *object {
	for _, status := range statuses {
		responses.set(strconv.Itoa(status), d.errorResponse(status))
	}
	return responses
}

func jsonBody(media, schemaName string) *object {
	return newObject().set("required", true).
		set("content", newObject().set(media, newObject().set("schema", schemaRef(schemaName))))
}

func scopeNote(t *topic.Topic) string {
	if t.Scope() == topic.PerPrincipal {
		return "Scope: per-principal. Every caller has a document of their own under this name; the URL never names the principal."
	}
	return "Scope: shared. One document for everyone allowed to read it."
}

// cacheHeaders adds the cache headers a snapshot of t is sent with.
func (d *document) cacheHeaders(h *object, t *topic.Topic) *object {
	if t.Scope() == topic.PerPrincipal {
		return h.set("Cache-Control", d.header("PrivateNoCache")).set("Vary", d.header("VaryPrincipal"))
	}
	return h.set("Cache-Control", d.header("NoCache")).set("Vary", d.header("VaryCookie"))
}

// listPath describes GET /api/topics.
func (d *document) listPath() {
	get := operation("listTopics", "List the topics", "Every topic the caller may read, with the caller's current revision of each.", "Topics").
		set("responses", d.withErrors(newObject().set("200", newObject().
			set("description", "The topics, sorted by name.").
			set("headers", newObject().
				set("Cache-Control", d.header("PrivateNoCache")).
				set("Vary", d.header("VaryPrincipal")).
				set("Set-Cookie", d.header("SetCookie"))).
			set("content", newObject().set("application/json", newObject().set("schema", schemaRef("TopicList"))))),
			http.StatusUnauthorized, http.StatusForbidden, http.StatusInternalServerError))
	d.paths.set("/api/topics", newObject().set("get", get))
}

// topicPaths describes the routes of one topic: its document and its
// actions.
func (d *document) topicPaths(t *topic.Topic) {
	name, p := t.Name(), pascal(t.Name())
	sc := scope{topic: name, prefix: p}
	about := t.Description() + " " + scopeNote(t)
	d.tag(name, about)

	doc := d.types.component(sc, t.Type(), asRead, p, t.Description()).ref
	input := d.types.component(sc, t.Type(), asInput, p+"Input",
		"The whole "+name+" document as a client sends it with PUT. A member left out reads as its zero value, so a member whose zero value fails validation is required.").ref
	patch := d.types.component(sc, t.Type(), asPatch, p+"Patch",
		"An RFC 7396 merge patch of the "+name+" document: the members to change. Objects are patched member by member, arrays are replaced whole, and null resets a member to its zero value. The merged document must be valid.").ref
	snap := d.snapshot(t, p, doc)

	get := d.topicOperation("get"+p, "Read "+name, about+" With If-None-Match naming the current revision, answers 304 without a body.", name).
		set("parameters", []any{d.parameter("IfNoneMatch")}).
		set("responses", d.withErrors(newObject().
			set("200", refTo("responses", snap)).
			set("304", newObject().
				set("description", "Not modified: If-None-Match names the current revision. No body.").
				set("headers", d.cacheHeaders(newObject().set("ETag", d.header("ETag")), t).set("Set-Cookie", d.header("SetCookie")))),
			http.StatusUnauthorized, http.StatusForbidden, http.StatusInternalServerError))

	writeParams := []any{d.parameter("IfMatch"), d.parameter("SourceId")}
	const committed = " Answers the new snapshot and raises one invalidation."
	write := func(id, summary, description string, body *object, statuses []int) *object {
		return d.topicOperation(id, summary, description+committed, name).
			set("parameters", writeParams).
			set("requestBody", body).
			set("responses", d.withErrors(newObject().set("200", refTo("responses", snap)), statuses...))
	}
	put := write("replace"+p, "Replace "+name,
		"Replaces the whole document, validated before anything is stored.",
		jsonBody("application/json", input), bodyWriteErrors)
	patchOp := write("patch"+p, "Patch "+name,
		"Merges an RFC 7396 merge patch (a JSON object) into the current document and validates the merged document as a whole; error pointers point into it.",
		jsonBody("application/merge-patch+json", patch), bodyWriteErrors)
	reset := write("reset"+p, "Reset "+name,
		"Resets the document to its default, at a new revision: revisions never go back.", nil, resetErrors)

	d.paths.set("/api/topics/"+name, newObject().
		set("get", get).set("put", put).set("patch", patchOp).set("delete", reset))

	for _, a := range t.Actions() {
		in := d.types.component(sc, a.Input, asInput, p+pascal(a.Name)+"Input", "The input of the "+a.Name+" action of "+name+".").ref
		post := write(camel(name)+pascal(a.Name), "Run "+a.Name+" on "+name,
			strings.TrimSpace(a.Description+" The input is validated, the change is computed on the server, and the changed document is validated again."),
			jsonBody("application/json", in), bodyWriteErrors)
		d.paths.set("/api/topics/"+name+"/actions/"+a.Name, newObject().set("post", post))
	}
}

// snapshot adds the snapshot schema of a topic and the response that
// carries it, and returns their name.
func (d *document) snapshot(t *topic.Topic, p, doc string) string {
	name := d.types.names.claim(p + "Snapshot")
	s := typed("object")
	s.description = "A snapshot of " + t.Name() + ": exactly the SnapshotEnvelope of @statesync/core."
	s.required = []string{"revision", "data"}
	s.properties = []property{{"revision", ref("Revision")}, {"data", ref(doc)}}
	s.closed = true
	d.types.schemas[name] = s
	d.responses[name] = newObject().
		set("description", "The caller's "+t.Name()+" document and its revision. A document never written is the default at the initial revision.").
		set("headers", d.cacheHeaders(newObject().set("ETag", d.header("ETag")), t).set("Set-Cookie", d.header("SetCookie"))).
		set("content", newObject().set("application/json", newObject().set("schema", schemaRef(name))))
	return name
}
