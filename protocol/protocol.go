// Package protocol holds the facts of Pinion's wire protocol that code
// needs: name patterns, header and parameter names, media types, cache
// directives, event names, problem types and the session cookie's default
// name. docs/protocol.md is the normative text; this package is its one
// copy in Go, so that the handlers, the stream, the topic kit, the
// authenticator and the OpenAPI generator cannot disagree.
//
// It sits at the bottom of the dependency graph, beside store: it imports
// only the standard library, and everything else may import it.
package protocol

import (
	"net/http"
	"strconv"
)

// Name patterns, as regular expressions (for documents such as the
// OpenAPI schema). The Valid* functions check the same rules without a
// regular expression; a test keeps the two in step.
const (
	// TopicPattern is the pattern of a topic name.
	TopicPattern = `^[a-z0-9][a-z0-9._:-]{0,127}$`
	// ActionPattern is the pattern of an action name.
	ActionPattern = `^[a-z0-9][a-z0-9._-]{0,63}$`
	// SourceIDPattern is the pattern of an X-Source-Id value: 1 to 128
	// printable ASCII characters.
	SourceIDPattern = `^[\x20-\x7E]{1,128}$`
	// RevisionPattern is the pattern of a revision: the canonical decimal
	// form of an unsigned 64-bit integer (the bound itself is checked by
	// parsing; a pattern cannot say it).
	RevisionPattern = `^(0|[1-9][0-9]{0,19})$`
	// ETagPattern is the pattern of a snapshot's ETag: a revision as a
	// strong entity tag.
	ETagPattern = `^"(0|[1-9][0-9]{0,19})"$`
	// ETagListPattern is the pattern of If-Match and If-None-Match: "*"
	// or a comma-separated list of entity tags.
	ETagListPattern = `^(\*|(W/)?"[^"]*"(\s*,\s*(W/)?"[^"]*")*)$`
)

// MaxSourceID is the longest X-Source-Id accepted, in bytes.
const MaxSourceID = 128

// ValidTopicName reports whether s matches [TopicPattern].
func ValidTopicName(s string) bool { return validName(s, 128, ":") }

// ValidActionName reports whether s matches [ActionPattern].
func ValidActionName(s string) bool { return validName(s, 64, "") }

// validName checks [a-z0-9][a-z0-9._<extra>-]{0,max-1}.
func validName(s string, max int, extra string) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		case i > 0 && extra != "" && c == extra[0]:
		default:
			return false
		}
	}
	return true
}

// ValidSourceID reports whether s is an acceptable X-Source-Id value
// ([SourceIDPattern]).
func ValidSourceID(s string) bool {
	if len(s) < 1 || len(s) > MaxSourceID {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// Header and query parameter names.
const (
	HeaderSourceID       = "X-Source-Id"
	HeaderLastEventID    = "Last-Event-ID"
	HeaderAccelBuffering = "X-Accel-Buffering" // "no": nginx must not buffer a stream
	QueryTopic           = "topic"
	QueryLastEventID     = "lastEventId"
)

// Media types.
const (
	MediaJSON        = "application/json"
	MediaMergePatch  = "application/merge-patch+json"
	MediaProblem     = "application/problem+json"
	MediaEventStream = "text/event-stream"
)

// Cache directives of snapshots and of every per-caller answer.
const (
	// CacheShared is the Cache-Control of a shared topic's snapshot.
	CacheShared = "no-cache"
	// CachePrivate is the Cache-Control of a per-principal snapshot and of
	// any answer that depends on the caller.
	CachePrivate = "private, no-cache"
	// VaryPrincipal is the Vary of an answer that depends on the caller.
	VaryPrincipal = "Cookie, Authorization"
)

// Event names of the stream.
const (
	EventReady        = "ready"
	EventInvalidation = "invalidation"
	// EventReauthenticate is the last event of a stream whose credential
	// expired: the client authenticates again and reconnects with its
	// last cursor.
	EventReauthenticate = "reauthenticate"
)

// Scope names, as GET /api/topics spells them.
const (
	ScopeShared       = "shared"
	ScopePerPrincipal = "per-principal"
	ScopePerTenant    = "per-tenant"
)

// SessionCookie is the default name of the development authenticator's
// session cookie.
const SessionCookie = "pinion_session"

// ProblemBase is the prefix of every problem type URI.
const ProblemBase = "https://pinion.dev/problems/"

// ProblemKind is the type URI and title of the problems of one status.
type ProblemKind struct {
	Type  string
	Title string
}

// Problem returns the kind of problem a status is answered with. Every
// status gets one: those the protocol names have their own slug, any other
// is "http-<status>" with Go's status text.
func Problem(status int) ProblemKind {
	slug, title := problemSlug(status)
	return ProblemKind{Type: ProblemBase + slug, Title: title}
}

func problemSlug(status int) (slug, title string) {
	switch status {
	case http.StatusBadRequest:
		return "bad-request", "Bad request"
	case http.StatusUnauthorized:
		return "unauthorized", "Unauthorized"
	case http.StatusForbidden:
		return "forbidden", "Forbidden"
	case http.StatusNotFound:
		return "not-found", "Not found"
	case http.StatusMethodNotAllowed:
		return "method-not-allowed", "Method not allowed"
	case http.StatusPreconditionFailed:
		return "precondition-failed", "Precondition failed"
	case http.StatusRequestEntityTooLarge:
		return "too-large", "Request body too large"
	case http.StatusUnsupportedMediaType:
		return "unsupported-media-type", "Unsupported media type"
	case http.StatusUnprocessableEntity:
		return "validation", "Validation failed"
	case http.StatusTooManyRequests:
		return "too-many-requests", "Too many requests"
	case http.StatusInternalServerError:
		return "internal", "Internal server error"
	case http.StatusServiceUnavailable:
		return "unavailable", "Service unavailable"
	}
	return "http-" + strconv.Itoa(status), http.StatusText(status)
}
