package openapi

import (
	"fmt"
	"net/http"

	"github.com/pinionkit/pinion/protocol"
)

// schemaRef is a reference to a component schema, in document form.
func schemaRef(name string) *object { return refTo("schemas", name) }

// constString is the schema of a header whose value never varies.
func constString(v string) *object {
	return newObject().Set("type", "string").Set("const", v)
}

// header returns a reference to a shared response header, adding it on
// first use.
func (d *document) header(name string) *object {
	if _, ok := d.headers[name]; !ok {
		h := newObject()
		switch name {
		case "ETag":
			h.Set("description", "The document's revision as a strong entity tag (never W/).").Set("required", true).
				Set("schema", newObject().Set("type", "string").Set("pattern", protocol.ETagPattern))
		case "SetCookie":
			h.Set("description", "The development authenticator's session cookie (HttpOnly, SameSite=Lax), set on a browser's first request.").
				Set("schema", newObject().Set("type", "string"))
		case "RetryAfter":
			h.Set("description", "Seconds to wait before trying again.").Set("required", true).
				Set("schema", newObject().Set("type", "integer").Set("minimum", 0))
		case "NoCache":
			h.Set("description", "Caches must revalidate before reuse; private as well when the answer sets a cookie.").Set("required", true).
				Set("schema", newObject().Set("type", "string").Set("enum", []any{protocol.CacheShared, protocol.CachePrivate}))
		case "VaryCookie":
			h.Set("description", "Present when the answer sets a cookie.").Set("schema", constString("Cookie"))
		case "PrivateNoCache":
			h.Set("description", "The answer is the caller's own: shared caches must not keep it, and every cache must revalidate.").
				Set("required", true).Set("schema", constString(protocol.CachePrivate))
		case "VaryPrincipal":
			h.Set("description", "The answer depends on who is asking.").Set("required", true).Set("schema", constString(protocol.VaryPrincipal))
		case "NoBuffering":
			h.Set("description", "Tells nginx not to buffer the stream.").Set("required", true).Set("schema", constString("no"))
		default:
			panic(fmt.Sprintf("openapi: no header component %q", name)) // a bug in this package
		}
		d.headers[name] = h
	}
	return refTo("headers", name)
}

// headerName is the HTTP name of a shared response header.
func headerName(component string) string {
	switch component {
	case HeaderSetCookie:
		return "Set-Cookie"
	case headerRetryAfter:
		return "Retry-After"
	case HeaderNoCache, HeaderPrivateNoCache:
		return "Cache-Control"
	case HeaderVaryPrincipal:
		return "Vary"
	case HeaderNoBuffering:
		return protocol.HeaderAccelBuffering
	}
	return component
}

// parameter returns a reference to a shared parameter, adding it on
// first use.
func (d *document) parameter(name string) *object {
	if _, ok := d.parameters[name]; !ok {
		p := newObject()
		switch name {
		case "IfMatch":
			p.Set("name", "If-Match").Set("in", "header").
				Set("description", "Makes the write conditional: it happens only when this names the current revision (\"<revision>\"), lists it, or is *. Otherwise the answer is 412 and nothing changes. Weak tags never match.").
				Set("schema", newObject().Set("type", "string").Set("pattern", protocol.ETagListPattern))
		case "IfNoneMatch":
			p.Set("name", "If-None-Match").Set("in", "header").
				Set("description", "Answers 304 without a body when this names the current revision, lists it, or is *.").
				Set("schema", newObject().Set("type", "string").Set("pattern", protocol.ETagListPattern))
		case "SourceId":
			p.Set("name", protocol.HeaderSourceID).Set("in", "header").
				Set("description", "The writing window's id, copied into the invalidation's sourceId so that the window can recognise its own echo. A value outside 1 to 128 printable ASCII characters answers 400.").
				Set("schema", schemaRef("SourceId"))
		case "LastEventID":
			p.Set("name", protocol.HeaderLastEventID).Set("in", "header").
				Set("description", "The id of the last event received; browsers send it by themselves on reconnect. The stream then first replays, for each subscribed topic changed since, one invalidation with its current revision. It wins over lastEventId; an empty value counts as absent.").
				Set("schema", newObject().Set("type", "string"))
		case "LastEventIDQuery":
			p.Set("name", protocol.QueryLastEventID).Set("in", "query").
				Set("description", "Like Last-Event-ID, for a first connection (EventSource cannot set headers). An empty value counts as absent.").
				Set("schema", newObject().Set("type", "string"))
		case "Topics":
			p.Set("name", protocol.QueryTopic).Set("in", "query").Set("style", "form").Set("explode", true).
				Set("description", "A topic to subscribe to; repeat the parameter for more. Without it, every topic the caller may read. An unknown topic answers 404.").
				Set("schema", newObject().Set("type", "array").Set("items", schemaRef("TopicName")))
		default:
			panic(fmt.Sprintf("openapi: no parameter component %q", name)) // a bug in this package
		}
		d.parameters[name] = p
	}
	return refTo("parameters", name)
}

// errorResponse returns a reference to the shared response of an error
// status, adding it on first use.
func (d *document) errorResponse(status int) *object {
	name, description, body := errorKind(status)
	if _, ok := d.responses[name]; !ok {
		headers := newObject()
		switch status {
		case http.StatusPreconditionFailed:
			headers.Set("ETag", d.header("ETag"))
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			headers.Set("Retry-After", d.header(headerRetryAfter))
		}
		// The authenticator may have issued its cookie before the error.
		headers.Set("Set-Cookie", d.header("SetCookie"))
		d.responses[name] = newObject().
			Set("description", description).
			Set("headers", headers).
			Set("content", newObject().Set(protocol.MediaProblem, newObject().Set("schema", schemaRef(body))))
	}
	return refTo("responses", name)
}

// errorKind names the shared response of an error status, describes it
// and names its body's schema.
func errorKind(status int) (name, description, body string) {
	switch status {
	case http.StatusBadRequest:
		return "BadRequest", "The body is not exactly one well-formed JSON value (detail says where), or a header is malformed (If-Match, X-Source-Id). Nothing changed.", "Problem"
	case http.StatusUnauthorized:
		return "Unauthorized", "The request has no valid credentials. The development authenticator never answers this.", "Problem"
	case http.StatusForbidden:
		return "Forbidden", "The caller may not use this topic. The development authenticator never answers this.", "Problem"
	case http.StatusNotFound:
		return "NotFound", "A topic named in the request does not exist (for POST /api/freshness: this server does not take freshness reports).", "Problem"
	case http.StatusPreconditionFailed:
		return "PreconditionFailed", "If-Match did not name the current revision. The current revision is in ETag and currentRevision; nothing changed.", "PreconditionProblem"
	case http.StatusRequestEntityTooLarge:
		return "ContentTooLarge", "The body is over the server's limit (1 MiB by default). Nothing changed.", "Problem"
	case http.StatusUnsupportedMediaType:
		return "UnsupportedMediaType", "The body is not of the operation's media type (a charset=utf-8 parameter is accepted). Nothing changed.", "Problem"
	case http.StatusUnprocessableEntity:
		return "ValidationFailed", "Well-formed JSON whose content is wrong: a wrong type, an unknown member, a failed rule, or a command the action refused. errors lists every problem; nothing changed.", "ValidationProblem"
	case http.StatusTooManyRequests:
		return "TooManyRequests", "Too many requests: too many event streams are open, for this caller or in all (share one stream between a page's stores, or a browser's tabs), or a rate limit was reached. Retry after Retry-After.", "Problem"
	case http.StatusInternalServerError:
		return "InternalError", "The server failed to handle the request (a bug: a failing store answers 503).", "Problem"
	case http.StatusServiceUnavailable:
		return "Unavailable", "The server cannot serve this now: its store cannot commit (unreachable, full, failing) or it is shutting down. Nothing changed. Retry after Retry-After, on another instance if there is one.", "Problem"
	}
	panic(fmt.Sprintf("openapi: no response for status %d", status)) // a bug in this package
}
