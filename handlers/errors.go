package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/pinionkit/pinion/auth"
	"github.com/pinionkit/pinion/protocol"
	"github.com/pinionkit/pinion/store"
	"github.com/pinionkit/pinion/stream"
	"github.com/pinionkit/pinion/topic"
)

// problem is an RFC 9457 problem details body.
type problem struct {
	Type            string             `json:"type"`
	Title           string             `json:"title"`
	Status          int                `json:"status"`
	Detail          string             `json:"detail"`
	Errors          []topic.FieldError `json:"errors,omitempty"`
	CurrentRevision string             `json:"currentRevision,omitempty"`
}

// apiError is an error that already knows its HTTP status.
type apiError struct {
	status  int
	detail  string
	current *store.Revision // for 412
}

func (e *apiError) Error() string { return fmt.Sprintf("%d: %s", e.status, e.detail) }

func notFound(format string, args ...any) error {
	return &apiError{status: http.StatusNotFound, detail: fmt.Sprintf(format, args...)}
}

func badRequest(detail string) error { return &apiError{status: http.StatusBadRequest, detail: detail} }

func tooLarge(limit int64) error {
	return &apiError{status: http.StatusRequestEntityTooLarge,
		detail: "The body is larger than the limit of " + strconv.FormatInt(limit, 10) + " bytes."}
}

// problemFor maps any error to the problem it is answered with. It is the
// only place that decides statuses.
func problemFor(err error) (problem, bool) {
	p, internal := classify(err)
	k := protocol.Problem(p.Status)
	p.Type, p.Title = k.Type, k.Title
	return p, internal
}

func classify(err error) (p problem, internal bool) {
	var (
		ae  *apiError
		se  *topic.SyntaxError
		le  *topic.LimitError
		rf  *auth.Refusal
		ve  *topic.ValidationError
		mb  *http.MaxBytesError
		he  *echo.HTTPError
		pre problem
	)
	switch {
	case errors.As(err, &ae):
		pre = problem{Status: ae.status, Detail: ae.detail}
		if ae.current != nil {
			pre.CurrentRevision = ae.current.String()
		}
		return pre, false
	case errors.As(err, &le):
		return problem{Status: http.StatusRequestEntityTooLarge, Detail: "The body is too complex: " + le.Error() + "."}, false
	case errors.As(err, &se):
		return problem{Status: http.StatusBadRequest, Detail: "The body is not one well-formed JSON value: " + se.Error() + "."}, false
	case errors.As(err, &ve):
		entries := ve.Errors
		if len(entries) == 0 {
			// A 422 always names at least one problem (the contract says
			// so); an action that rejected without one blames the document.
			entries = []topic.FieldError{{Rule: "invalid", Message: "The document is invalid."}}
		}
		return problem{Status: http.StatusUnprocessableEntity, Detail: summary(ve), Errors: entries}, false
	case errors.Is(err, topic.ErrUnknownAction):
		return problem{Status: http.StatusNotFound, Detail: "There is no such action."}, false
	case errors.As(err, &rf):
		status := http.StatusForbidden
		switch {
		case errors.Is(rf.Err, auth.ErrUnauthenticated):
			status = http.StatusUnauthorized
		case errors.Is(rf.Err, auth.ErrRateLimited):
			status = http.StatusTooManyRequests
		}
		return problem{Status: status, Detail: rf.Detail}, false
	case errors.Is(err, auth.ErrRateLimited):
		return problem{Status: http.StatusTooManyRequests, Detail: "Too many requests; retry later."}, false
	case errors.Is(err, auth.ErrUnauthenticated):
		return problem{Status: http.StatusUnauthorized, Detail: "This request needs valid credentials."}, false
	case errors.Is(err, auth.ErrForbidden):
		return problem{Status: http.StatusForbidden, Detail: "The caller may not use this topic."}, false
	case errors.Is(err, stream.ErrTooManyStreams):
		return problem{Status: http.StatusTooManyRequests, Detail: "Too many event streams are open; use one stream per page (or per browser) for all topics."}, false
	case errors.As(err, &mb):
		return problem{Status: http.StatusRequestEntityTooLarge, Detail: "The body is larger than the limit of " + strconv.FormatInt(mb.Limit, 10) + " bytes."}, false
	case errors.As(err, &he):
		detail := http.StatusText(he.Code)
		switch he.Code {
		case http.StatusNotFound:
			detail = "There is no such route."
		case http.StatusMethodNotAllowed:
			detail = "This route does not support this method."
		default:
			if m, ok := he.Message.(string); ok && he.Code < 500 {
				detail = m
			}
		}
		return problem{Status: he.Code, Detail: detail}, he.Code >= 500
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, store.ErrClosed):
		// Logged (internal) for the operator, but not a 500: nothing was
		// changed, and the same request may succeed in a moment.
		return problem{Status: http.StatusServiceUnavailable, Detail: "The store cannot serve or make changes durable right now; nothing was changed. Retry later."}, true
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return problem{Status: http.StatusServiceUnavailable, Detail: "The request was cancelled before it completed."}, false
	}
	return problem{Status: http.StatusInternalServerError, Detail: "The server failed to handle this request."}, true
}

func summary(ve *topic.ValidationError) string {
	switch n := len(ve.Errors); n {
	case 0:
		return "The document is invalid."
	case 1:
		return ve.Errors[0].Message
	default:
		return strconv.Itoa(n) + " fields are invalid"
	}
}

// ErrorHandler writes every error as application/problem+json and logs
// the ones that are the server's fault.
func ErrorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return // a stream already started; nothing can be said any more
		}
		p, internal := problemFor(err)
		if internal {
			log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		}
		if p.Status == http.StatusPreconditionFailed && p.CurrentRevision != "" {
			c.Response().Header().Set("ETag", `"`+p.CurrentRevision+`"`)
		}
		if p.Status == http.StatusTooManyRequests {
			retry := "5"
			if rf, ok := errors.AsType[*auth.Refusal](err); ok && rf.RetryAfter > 0 {
				retry = strconv.FormatInt(int64((rf.RetryAfter+time.Second-1)/time.Second), 10)
			}
			c.Response().Header().Set("Retry-After", retry)
		}
		if p.Status == http.StatusServiceUnavailable && c.Response().Header().Get("Retry-After") == "" {
			c.Response().Header().Set("Retry-After", "5")
		}
		body, merr := json.Marshal(p)
		if merr != nil {
			log.Error("encoding problem", "err", merr)
			return
		}
		if c.Request().Method == http.MethodHead {
			// The headers a GET would get, without the body (RFC 9110
			// 9.3.2): a client tells a problem from its Content-Type.
			h := c.Response().Header()
			h.Set(echo.HeaderContentType, protocol.MediaProblem)
			h.Set(echo.HeaderContentLength, strconv.Itoa(len(body)))
			c.Response().WriteHeader(p.Status)
			return
		}
		_ = c.Blob(p.Status, protocol.MediaProblem, body)
	}
}
