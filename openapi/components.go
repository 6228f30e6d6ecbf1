package openapi

import (
	"net/http"
	"slices"

	"github.com/pinionkit/pinion/protocol"
	"github.com/pinionkit/pinion/topic"
)

// sharedSchemas adds the protocol's own schemas. They are fixed data, not
// compiled from Go types, so they are written whole, with their keywords
// in the order the compiler renders them (description, type, const, enum,
// format, pattern, bounds, items, required, properties,
// additionalProperties).
func (d *document) sharedSchemas() {
	add := d.types.Add
	add("Revision", str("A revision: the decimal form of an unsigned 64-bit integer, without sign or leading zeros. Compare revisions as numbers, never as strings.").
		Set("pattern", protocol.RevisionPattern))
	add("Cursor", str("An event id, opaque to clients: send it back as Last-Event-ID (browsers do) or lastEventId to resume.").
		Set("minLength", 1))
	add("SourceId", str("A window's id (X-Source-Id), 1 to 128 printable ASCII characters, echoed in the invalidations its writes raise.").
		Set("pattern", protocol.SourceIDPattern))

	name := str("The name of a registered topic.")
	if len(d.topics) == 0 {
		name.Set("pattern", protocol.TopicPattern)
	} else {
		var names []any
		for _, t := range d.topics {
			names = append(names, t.Name())
		}
		name.Set("enum", names)
	}
	add("TopicName", name)

	add("TopicSummary", closed("A topic and the caller's current revision of it.", []string{"topic", "revision", "scope"}, newObject().
		Set("topic", schemaRef("TopicName")).
		Set("revision", schemaRef("Revision")).
		Set("scope", str("shared: one document for everyone allowed to read it; per-principal: one document per caller.").
			Set("enum", []any{topic.Shared.String(), topic.PerPrincipal.String()}))))
	add("TopicList", closed("Every topic the caller may read.", []string{"topics"}, newObject().
		Set("topics", newObject().Set("type", "array").Set("items", schemaRef("TopicSummary")))))

	add("Invalidation", closed("The data of an `invalidation` event (the InvalidationEvent of @statesync/core): the topic is now at this revision. It never carries the document: fetch it.",
		[]string{"topic", "revision", "timestampMs"}, newObject().
			Set("topic", schemaRef("TopicName")).
			Set("revision", schemaRef("Revision")).
			Set("sourceId", described("SourceId", "The X-Source-Id of the write, when it carried one.")).
			Set("timestampMs", newObject().Set("description", "The commit time, in milliseconds since the Unix epoch.").
				Set("type", "integer").Set("format", "int64"))))
	add("Ready", closed("The data of a `ready` event: the stream is up to date.", []string{"cursor"}, newObject().
		Set("cursor", described("Cursor", "The current cursor, also the event's id."))))

	add("FreshnessSample", closed("One revision a tab applied after an invalidation announced it.", []string{"topic", "revision", "appliedAgoMs"}, newObject().
		Set("topic", schemaRef("TopicName")).
		Set("revision", described("Revision", "The revision applied: its commit time in the server's microseconds since the Unix epoch.")).
		Set("appliedAgoMs", newObject().
			Set("description", "How many milliseconds before the report was sent the tab applied the revision, on the tab's monotonic clock. The server never compares its clock with the tab's: it takes the report's arrival minus this as the apply time.").
			Set("type", "number").Set("minimum", 0).Set("maximum", 3600000))))
	add("FreshnessReport", closed("A browser tab's freshness report: sampled revisions it applied, with how long ago.", []string{"samples"}, newObject().
		Set("samples", newObject().Set("description", "At most the server's -freshness-max-samples (20 by default); the body limit follows from it.").
			Set("type", "array").Set("items", schemaRef("FreshnessSample")).Set("minItems", 1))))

	add("FieldError", closed("One problem with one value of a submitted document.", []string{"field", "pointer", "rule", "param", "message"}, newObject().
		Set("field", str("The JSON name of the field the value belongs to; empty for the document itself.")).
		Set("pointer", str("An RFC 6901 JSON Pointer to the value in the submitted document (for a merge patch, in the merged document); empty for the document itself.").
			Set("format", "json-pointer")).
		Set("rule", str("The rule that failed: a validate tag (required, max, oneof, ...), type for a value of the wrong JSON type, unknown for a member the document does not have, or a rule of an action.")).
		Set("param", str("The rule's parameter, empty when it has none; for type, the expected JSON type.")).
		Set("message", str("An English sentence a form can show next to the field."))))

	base := []string{"type", "title", "status", "detail"}
	problem := func(status *object) *object {
		return newObject().
			Set("type", str("A URI that identifies the kind of problem.").Set("format", "uri")).
			Set("title", str("A short summary of the kind of problem.")).
			Set("status", status).
			Set("detail", str("What went wrong with this request, for a human."))
	}
	add("Problem", closed("An RFC 9457 problem details body.", base, problem(newObject().
		Set("description", "The HTTP status code.").Set("type", "integer").Set("minimum", 400).Set("maximum", 599))))
	add("ValidationProblem", closed("A 422 problem: well-formed JSON whose content is wrong.", slices.Concat(base, []string{"errors"}),
		problem(constStatus(http.StatusUnprocessableEntity)).
			Set("errors", newObject().Set("description", "One entry per problem, sorted by pointer.").
				Set("type", "array").Set("items", schemaRef("FieldError")).Set("minItems", 1))))
	add("PreconditionProblem", closed("A 412 problem: If-Match did not name the current revision, and nothing changed.", slices.Concat(base, []string{"currentRevision"}),
		problem(constStatus(http.StatusPreconditionFailed)).
			Set("currentRevision", described("Revision", "The document's current revision, also in the ETag header."))))
}

// str is a string schema.
func str(description string) *object {
	return newObject().Set("description", description).Set("type", "string")
}

// closed is an object schema with exactly the properties props.
func closed(description string, required []string, props *object) *object {
	return newObject().Set("description", description).Set("type", "object").
		Set("required", required).Set("properties", props).Set("additionalProperties", false)
}

// described is a reference to a component schema with a description of
// its own.
func described(name, description string) *object {
	return schemaRef(name).Set("description", description)
}

func constStatus(code int) *object {
	return newObject().Set("type", "integer").Set("const", code)
}
