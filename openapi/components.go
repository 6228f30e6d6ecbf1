package openapi

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/pinionkit/pinion/protocol"
	"github.com/pinionkit/pinion/topic"
)

// sharedSchemas adds the protocol's own schemas.
func (d *document) sharedSchemas() {
	add := func(name string, s *schema) { d.types.schemas[name] = s }
	str := func(description string) *schema {
		s := typed("string")
		s.description = description
		return s
	}
	closed := func(description string, required []string, props ...property) *schema {
		s := typed("object")
		s.description, s.required, s.properties, s.closed = description, required, props, true
		return s
	}
	described := func(s *schema, description string) *schema {
		s.description = description
		return s
	}

	rev := str("A revision: the decimal form of an unsigned 64-bit integer, without sign or leading zeros. Compare revisions as numbers, never as strings.")
	rev.pattern = protocol.RevisionPattern
	add("Revision", rev)

	cursor := str("An event id, opaque to clients: send it back as Last-Event-ID (browsers do) or lastEventId to resume.")
	cursor.minLength = intPtr(1)
	add("Cursor", cursor)

	source := str("A window's id (X-Source-Id), 1 to 128 printable ASCII characters, echoed in the invalidations its writes raise.")
	source.pattern = protocol.SourceIDPattern
	add("SourceId", source)

	name := str("The name of a registered topic.")
	for _, t := range d.topics {
		name.enum = append(name.enum, t.Name())
	}
	if name.enum == nil {
		name.pattern = protocol.TopicPattern
	}
	add("TopicName", name)

	scope := str("shared: one document for everyone allowed to read it; per-principal: one document per caller.")
	scope.enum = []any{topic.Shared.String(), topic.PerPrincipal.String()}
	add("TopicSummary", closed("A topic and the caller's current revision of it.", []string{"topic", "revision", "scope"},
		property{"topic", ref("TopicName")},
		property{"revision", ref("Revision")},
		property{"scope", scope}))
	list := typed("array")
	list.items = ref("TopicSummary")
	add("TopicList", closed("Every topic the caller may read.", []string{"topics"}, property{"topics", list}))

	ts := typed("integer")
	ts.description = "The commit time, in milliseconds since the Unix epoch."
	ts.format = "int64"
	add("Invalidation", closed("The data of an `invalidation` event (the InvalidationEvent of @statesync/core): the topic is now at this revision. It never carries the document: fetch it.",
		[]string{"topic", "revision", "timestampMs"},
		property{"topic", ref("TopicName")},
		property{"revision", ref("Revision")},
		property{"sourceId", described(ref("SourceId"), "The X-Source-Id of the write, when it carried one.")},
		property{"timestampMs", ts}))
	add("Ready", closed("The data of a `ready` event: the stream is up to date.", []string{"cursor"},
		property{"cursor", described(ref("Cursor"), "The current cursor, also the event's id.")}))

	age := typed("number")
	age.minimum, age.maximum = mustBound("0"), mustBound("3600000")
	age.description = "How many milliseconds before the report was sent the tab applied the revision, on the tab's monotonic clock. The server never compares its clock with the tab's: it takes the report's arrival minus this as the apply time."
	add("FreshnessSample", closed("One revision a tab applied after an invalidation announced it.", []string{"topic", "revision", "appliedAgoMs"},
		property{"topic", ref("TopicName")},
		property{"revision", described(ref("Revision"), "The revision applied: its commit time in the server's microseconds since the Unix epoch.")},
		property{"appliedAgoMs", age}))
	samples := typed("array")
	samples.items, samples.minItems = ref("FreshnessSample"), intPtr(1)
	samples.description = "At most the server's -freshness-max-samples (20 by default); the body limit follows from it."
	add("FreshnessReport", closed("A browser tab's freshness report: sampled revisions it applied, with how long ago.", []string{"samples"},
		property{"samples", samples}))

	add("FieldError", closed("One problem with one value of a submitted document.", []string{"field", "pointer", "rule", "param", "message"},
		property{"field", str("The JSON name of the field the value belongs to; empty for the document itself.")},
		property{"pointer", described(&schema{types: []string{"string"}, format: "json-pointer"},
			"An RFC 6901 JSON Pointer to the value in the submitted document (for a merge patch, in the merged document); empty for the document itself.")},
		property{"rule", str("The rule that failed: a validate tag (required, max, oneof, ...), type for a value of the wrong JSON type, unknown for a member the document does not have, or a rule of an action.")},
		property{"param", str("The rule's parameter, empty when it has none; for type, the expected JSON type.")},
		property{"message", str("An English sentence a form can show next to the field.")}))

	problemProps := func(status *schema) []property {
		t := str("A URI that identifies the kind of problem.")
		t.format = "uri"
		return []property{
			{"type", t},
			{"title", str("A short summary of the kind of problem.")},
			{"status", status},
			{"detail", str("What went wrong with this request, for a human.")},
		}
	}
	anyStatus := typed("integer")
	anyStatus.minimum, anyStatus.maximum = mustBound("400"), mustBound("599")
	anyStatus.description = "The HTTP status code."
	base := []string{"type", "title", "status", "detail"}
	add("Problem", closed("An RFC 9457 problem details body.", base, problemProps(anyStatus)...))

	errs := typed("array")
	errs.items, errs.minItems = ref("FieldError"), intPtr(1)
	errs.description = "One entry per problem, sorted by pointer."
	add("ValidationProblem", closed("A 422 problem: well-formed JSON whose content is wrong.",
		slices.Concat(base, []string{"errors"}), append(problemProps(constStatus(http.StatusUnprocessableEntity)), property{"errors", errs})...))
	add("PreconditionProblem", closed("A 412 problem: If-Match did not name the current revision, and nothing changed.",
		slices.Concat(base, []string{"currentRevision"}), append(problemProps(constStatus(http.StatusPreconditionFailed)),
			property{"currentRevision", described(ref("Revision"), "The document's current revision, also in the ETag header.")})...))
}

func constStatus(code int) *schema {
	s := typed("integer")
	s.hasConst, s.constant = true, number(strconv.Itoa(code))
	return s
}
