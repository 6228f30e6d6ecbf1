package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/pinionkit/pinion/auth"
	"github.com/pinionkit/pinion/handlers"
	"github.com/pinionkit/pinion/openapi"
	"github.com/pinionkit/pinion/protocol"
	"github.com/pinionkit/pinion/stream"
	"github.com/pinionkit/pinion/topic"
)

// deps is everything a handler maker may take.
type deps struct {
	st     Store
	topics *topic.Set
	who    auth.Authenticator
	hub    *stream.Hub
	limit  int64
	spec   []byte
	ready  handlers.Pinger // the store, and not shutting down
	fresh  handlers.FreshnessConfig
}

// route is one operation of the API: how it is documented and who serves
// it. Registration (routes) and the OpenAPI document (OpenAPI) both loop
// over api(), so neither can drift from the other.
type route struct {
	openapi.Operation
	handler func(d deps) echo.HandlerFunc
}

// Tags of the fixed operations. They have capitals and spaces, which topic
// names cannot have, so a topic named events still gets a tag of its own.
var (
	tagTopics  = openapi.Tag{Name: "Topics", Description: "The topics the caller may read, with the caller's current revision of each."}
	tagEvents  = openapi.Tag{Name: "Event stream", Description: "The event stream: one Server-Sent Events connection for any number of topics."}
	tagSession = openapi.Tag{Name: "Session", Description: "A browser session cookie made from a bearer token."}
	tagServer  = openapi.Tag{Name: "Server", Description: "Health, readiness and this document."}
	tagOps     = openapi.Tag{Name: "Telemetry", Description: "What browser tabs report about their own view of the topics."}
)

// Statuses shared by groups of operations.
var (
	readErrors = []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusInternalServerError, http.StatusServiceUnavailable}
	// Every write is rate-limited (429), and a body counts against the
	// in-flight cap (429 too).
	bodyWriteErrors = []int{
		http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusPreconditionFailed,
		http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity,
		http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusServiceUnavailable,
	}
	resetErrors = []int{
		http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusPreconditionFailed,
		http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusServiceUnavailable,
	}
)

// write completes the declaration of a write to a topic: every write takes
// If-Match and X-Source-Id, answers the new snapshot, and raises one
// invalidation; errs are the statuses it may answer besides.
func write(op openapi.Operation, errs []int) openapi.Operation {
	op.Description += " Answers the new snapshot and raises one invalidation."
	op.Params = []string{openapi.ParamIfMatch, openapi.ParamSourceID}
	op.Responses = []openapi.Response{{Status: http.StatusOK, Body: openapi.Snapshot()}}
	op.Errors = errs
	return op
}

// api is the whole HTTP API, on one screen. To add a route, add an entry:
// it is registered and documented from here.
func api() []route {
	return []route{
		{openapi.Operation{
			Method: http.MethodGet, Path: "/api/topics", ID: "listTopics", Tag: tagTopics,
			Summary:     "List the topics",
			Description: "Every topic the caller may read, with the caller's current revision of each.",
			Responses: []openapi.Response{{Status: http.StatusOK, Description: "The topics, sorted by name.",
				Headers: []string{openapi.HeaderPrivateNoCache, openapi.HeaderVaryPrincipal, openapi.HeaderSetCookie},
				Body:    openapi.JSON(protocol.MediaJSON, "TopicList")}},
			Errors: readErrors,
		}, func(d deps) echo.HandlerFunc { return handlers.List(d.topics, d.st, d.who) }},

		{openapi.Operation{
			Method: http.MethodGet, Path: "/api/topics/{topic}", ID: "get",
			Summary:     "Read {topic}",
			Description: "{about} With If-None-Match naming the current revision, answers 304 without a body.",
			Params:      []string{openapi.ParamIfNoneMatch},
			Responses: []openapi.Response{
				{Status: http.StatusOK, Body: openapi.Snapshot()},
				{Status: http.StatusNotModified, Description: "Not modified: If-None-Match names the current revision. No body.",
					Headers: []string{openapi.HeaderETag, openapi.HeaderTopicCache, openapi.HeaderSetCookie}},
			},
			Errors: readErrors,
		}, func(d deps) echo.HandlerFunc { return handlers.Snapshot(d.topics, d.st, d.who) }},

		{write(openapi.Operation{
			Method: http.MethodPut, Path: "/api/topics/{topic}", ID: "replace", Request: openapi.DocumentBody,
			Summary:     "Replace {topic}",
			Description: "Replaces the whole document, validated before anything is stored.",
		}, bodyWriteErrors), func(d deps) echo.HandlerFunc { return handlers.Replace(d.topics, d.st, d.who, d.limit) }},

		{write(openapi.Operation{
			Method: http.MethodPatch, Path: "/api/topics/{topic}", ID: "patch", Request: openapi.PatchBody,
			Summary:     "Patch {topic}",
			Description: "Merges an RFC 7396 merge patch (a JSON object) into the current document and validates the merged document as a whole; error pointers point into it.",
		}, bodyWriteErrors), func(d deps) echo.HandlerFunc { return handlers.Patch(d.topics, d.st, d.who, d.limit) }},

		{write(openapi.Operation{
			Method: http.MethodDelete, Path: "/api/topics/{topic}", ID: "reset",
			Summary:     "Reset {topic}",
			Description: "Resets the document to its default, at a new revision: revisions never go back.",
		}, resetErrors), func(d deps) echo.HandlerFunc { return handlers.Reset(d.topics, d.st, d.who) }},

		{write(openapi.Operation{
			Method: http.MethodPost, Path: "/api/topics/{topic}/actions/{action}", Request: openapi.ActionBody,
			Summary:     "Run {action} on {topic}",
			Description: "{actionAbout} The input is validated, the change is computed on the server, and the changed document is validated again.",
		}, bodyWriteErrors), func(d deps) echo.HandlerFunc { return handlers.Action(d.topics, d.st, d.who, d.limit) }},

		{openapi.Operation{
			Method: http.MethodPost, Path: "/api/session", ID: "startSession", Tag: tagSession,
			Summary:     "Start a browser session",
			Description: "With bearer-token authentication (-auth jwt), turns the token in Authorization into an HttpOnly session cookie that expires with the token, so that a browser's EventSource is authenticated without a token in its URL. With the development authenticator, sets the browser's session cookie. A request sent by a page of another site is refused with 403.",
			Responses: []openapi.Response{{Status: http.StatusNoContent, Description: "The session cookie is set.",
				Headers: []string{openapi.HeaderPrivateNoCache, openapi.HeaderSetCookie}}},
			Errors: []int{http.StatusUnauthorized, http.StatusForbidden},
		}, func(d deps) echo.HandlerFunc { return handlers.StartSession(d.who) }},

		{openapi.Operation{
			Method: http.MethodDelete, Path: "/api/session", ID: "endSession", Tag: tagSession,
			Summary:     "End the browser session",
			Description: "Clears the session cookie. It needs no credential (an expired one can still end its session); a request sent by a page of another site is refused with 403.",
			Responses: []openapi.Response{{Status: http.StatusNoContent, Description: "The session cookie is cleared.",
				Headers: []string{openapi.HeaderPrivateNoCache, openapi.HeaderSetCookie}}},
			Errors: []int{http.StatusForbidden},
		}, func(d deps) echo.HandlerFunc { return handlers.EndSession(d.who) }},

		{openapi.Operation{
			Method: http.MethodGet, Path: "/api/events", ID: "streamEvents", Tag: tagEvents,
			Summary:     "Open the event stream",
			Description: "One stream for any number of topics: repeat topic, or leave it out for every topic the caller may read. Every check happens before the stream starts, since an EventSource gives up for good on any answer but 200. A principal only ever receives invalidations of documents it may read.",
			Params:      []string{openapi.ParamTopics, openapi.ParamLastEventIDQuery, openapi.ParamLastEventID},
			Responses: []openapi.Response{{Status: http.StatusOK,
				Headers: []string{openapi.HeaderNoCache, openapi.HeaderNoBuffering, openapi.HeaderSetCookie},
				Body:    openapi.Stream()}},
			Errors: []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusTooManyRequests, http.StatusServiceUnavailable},
		}, func(d deps) echo.HandlerFunc { return handlers.Events(d.topics, d.hub, d.who) }},

		{openapi.Operation{
			Method: http.MethodPost, Path: "/api/freshness", ID: "reportFreshness", Tag: tagOps,
			Summary:     "Report freshness",
			Description: "A sampled browser tab reports when it applied revisions that invalidations announced, as milliseconds before sending; the server takes the apply time as the report's arrival minus that, and records its distance from the revision's commit time (a revision is its commit time in server microseconds) in the pinion_client_freshness_seconds histogram on the admin listener. The report's one-way latency is included, so the measure errs towards less fresh; a negative result counts as 0 and one over an hour as an hour. A report is recorded whole or not at all: every topic must be registered and readable by the caller. Off unless the server runs with -client-freshness (404 then); its own rate limit per caller applies, and so do the write limits.",
			Request:     openapi.FreshnessBody,
			Responses:   []openapi.Response{{Status: http.StatusNoContent, Description: "The report is recorded.", Headers: []string{openapi.HeaderSetCookie}}},
			Errors: []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound,
				http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity, http.StatusTooManyRequests},
		}, func(d deps) echo.HandlerFunc { return handlers.Freshness(d.topics, d.st, d.who, d.fresh) }},

		{openapi.Operation{
			Method: http.MethodGet, Path: "/healthz", ID: "healthz", Tag: tagServer, Public: true,
			Summary:     "Liveness",
			Description: "Answers 200 while the process serves requests.",
			Responses:   []openapi.Response{{Status: http.StatusOK, Description: "The process is alive.", Body: openapi.Status("ok")}},
		}, func(deps) echo.HandlerFunc { return handlers.Healthz() }},

		{openapi.Operation{
			Method: http.MethodGet, Path: "/readyz", ID: "readyz", Tag: tagServer, Public: true,
			Summary:     "Readiness",
			Description: "Answers 200 when the store can serve requests and commit a write, 503 otherwise (a full disk, an I/O error, a database down); it recovers by itself.",
			Responses:   []openapi.Response{{Status: http.StatusOK, Description: "The store is reachable.", Body: openapi.Status("ready")}},
			Errors:      []int{http.StatusServiceUnavailable},
		}, func(d deps) echo.HandlerFunc { return handlers.Readyz(d.ready) }},

		{openapi.Operation{
			Method: http.MethodGet, Path: openapi.Path, ID: "getOpenAPI", Tag: tagServer, Public: true,
			Summary:     "This document",
			Description: "The OpenAPI document of this server, generated from its registered topics.",
			Responses: []openapi.Response{{Status: http.StatusOK, Description: "The document, in YAML.",
				Headers: []string{openapi.HeaderNoCache}, Body: openapi.Document()}},
		}, func(d deps) echo.HandlerFunc { return handlers.OpenAPI(d.spec) }},
	}
}

// operations is the declaration of the API that the OpenAPI document is
// generated from.
func operations() []openapi.Operation {
	routes := api()
	ops := make([]openapi.Operation, len(routes))
	for i, r := range routes {
		ops[i] = r.Operation
	}
	return ops
}

// OpenAPI generates the OpenAPI document of a server of topics.
func OpenAPI(topics *topic.Set, opts openapi.Options) ([]byte, error) {
	return openapi.Generate(topics, operations(), opts)
}

// echoPath turns an OpenAPI path template into an Echo route.
func echoPath(p string) string {
	return strings.NewReplacer("{", ":", "}", "").Replace(p)
}

// routes registers every declared operation, then the fallbacks that are
// not operations: a 404 problem for any other /api path, and the app.
func (s *Server) routes(d deps) {
	s.middleware()
	for _, r := range api() {
		s.echo.Add(r.Method, echoPath(r.Path), r.handler(d))
	}
	s.echo.Any("/api/*", handlers.NoRoute())
	if s.cfg.Assets != nil {
		app := handlers.App(s.cfg.Assets, d.who)
		s.echo.GET("/*", app)
		s.echo.HEAD("/*", app)
	}
}
