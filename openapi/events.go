package openapi

import (
	"net/http"

	"github.com/pinionkit/pinion/protocol"
)

// streamExample shows the frames of a stream.
const streamExample = `retry: 2000
id: 7f3a.1041
event: ready
data: {"cursor":"7f3a.1041"}

id: 7f3a.1042
event: invalidation
data: {"topic":"app-settings","revision":"1764000000000018","sourceId":"w-3f2a","timestampMs":1764000000000}

: keep-alive

`

const streamDescription = `A text/event-stream. Every event has a non-empty id, a cursor to resume from, and its data is one line of JSON:

- ` + "`ready`" + ` (data: Ready) is sent once the stream is up to date, with the current cursor as its id.
- ` + "`invalidation`" + ` (data: Invalidation) says that a topic is now at a revision; fetch the topic when that revision is newer than the one you hold. With Last-Event-ID or lastEventId, the stream first replays one invalidation for each subscribed topic changed since that cursor (with the document's current revision), then sends ready, then live invalidations.

The first event carries retry (a reconnection delay in milliseconds). A comment line (": keep-alive") is sent when nothing else was for the heartbeat interval. The server ends the stream when the client cannot keep up or when it shuts down; reconnecting with Last-Event-ID loses nothing. The payload schemas are listed under x-sse-events.`

// eventsPath describes GET /api/events.
func (d *document) eventsPath() {
	event := func(description, data string) *object {
		return newObject().set("description", description).set("data", schemaRef(data))
	}
	ok := newObject().
		set("description", streamDescription).
		set("headers", newObject().
			set("Cache-Control", d.header("NoCache")).
			set(protocol.HeaderAccelBuffering, d.header("NoBuffering")).
			set("Set-Cookie", d.header("SetCookie"))).
		set("content", newObject().set(protocol.MediaEventStream, newObject().
			set("schema", newObject().set("type", "string").set("description", "Server-Sent Events frames; see x-sse-events for the data of each event.")).
			set("example", streamExample).
			// OpenAPI 3.1 cannot attach a schema to each event of a
			// stream (3.2's itemSchema can, but no tool here uses it
			// yet), so the payloads are named in an extension.
			set("x-sse-events", newObject().
				set("ready", event("The stream is up to date; the id is the current cursor.", "Ready")).
				set("invalidation", event("A topic is at a new revision; the id is the cursor of that change.", "Invalidation")))))
	get := operation("streamEvents", "Open the event stream",
		"One stream for any number of topics: repeat topic, or leave it out for every topic the caller may read. Every check happens before the stream starts, since an EventSource gives up for good on any answer but 200. A principal only ever receives invalidations of documents it may read.", "Event stream").
		set("parameters", []any{d.parameter("Topics"), d.parameter("LastEventIDQuery"), d.parameter("LastEventID")}).
		set("responses", d.withErrors(newObject().set("200", ok),
			http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusTooManyRequests, http.StatusServiceUnavailable))
	d.paths.set("/api/events", newObject().set("get", get))
}

// serverPaths describes the routes outside the API: health, readiness
// and this document. They need no session.
func (d *document) serverPaths() {
	status := func(value string) *object {
		return newObject().set("application/json", newObject().set("schema", newObject().
			set("type", "object").
			set("required", []any{"status"}).
			set("properties", newObject().set("status", constString(value))).
			set("additionalProperties", false)))
	}
	public := func(id, summary, description string, responses *object) *object {
		return newObject().set("get", operation(id, summary, description, "Server").
			set("security", []any{}).
			set("responses", responses))
	}

	d.paths.set("/healthz", public("healthz", "Liveness", "Answers 200 while the process serves requests.",
		newObject().set("200", newObject().set("description", "The process is alive.").set("content", status("ok")))))

	ready := newObject().set("200", newObject().set("description", "The store is reachable.").set("content", status("ready")))
	d.paths.set("/readyz", public("readyz", "Readiness", "Answers 200 when the store can serve requests, 503 otherwise.",
		d.withErrors(ready, http.StatusServiceUnavailable)))

	yamlDoc := newObject().set("application/yaml", newObject().
		set("schema", newObject().set("type", "object").set("description", "An OpenAPI 3.1 document.")))
	d.paths.set(Path, public("getOpenAPI", "This document", "The OpenAPI document of this server, generated from its registered topics.",
		newObject().set("200", newObject().
			set("description", "The document, in YAML.").
			set("headers", newObject().set("Cache-Control", d.header("NoCache"))).
			set("content", yamlDoc))))
}
