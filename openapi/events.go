package openapi

import "github.com/pinionkit/pinion/protocol"

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

// streamContent is the content of the event stream's 200.
func streamContent() *object {
	event := func(description, data string) *object {
		return newObject().Set("description", description).Set("data", schemaRef(data))
	}
	return newObject().Set(protocol.MediaEventStream, newObject().
		Set("schema", newObject().Set("type", "string").Set("description", "Server-Sent Events frames; see x-sse-events for the data of each event.")).
		Set("example", streamExample).
		// OpenAPI 3.1 cannot attach a schema to each event of a stream
		// (3.2's itemSchema can, but no tool here uses it yet), so the
		// payloads are named in an extension.
		Set("x-sse-events", newObject().
			Set(protocol.EventReady, event("The stream is up to date; the id is the current cursor.", "Ready")).
			Set(protocol.EventInvalidation, event("A topic is at a new revision; the id is the cursor of that change.", "Invalidation"))))
}

// statusContent is {"status": value}, as health checks answer.
func statusContent(value string) *object {
	return newObject().Set(protocol.MediaJSON, newObject().Set("schema", newObject().
		Set("type", "object").
		Set("required", []any{"status"}).
		Set("properties", newObject().Set("status", constString(value))).
		Set("additionalProperties", false)))
}

// documentContent is this document, in YAML.
func documentContent() *object {
	return newObject().Set("application/yaml", newObject().
		Set("schema", newObject().Set("type", "object").Set("description", "An OpenAPI 3.1 document.")))
}
