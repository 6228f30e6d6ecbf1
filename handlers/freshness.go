package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/labstack/echo/v4"
	"github.com/pinionkit/pinion/auth"
	"github.com/pinionkit/pinion/protocol"
	"github.com/pinionkit/pinion/store"
	"github.com/pinionkit/pinion/topic"
)

// FreshnessRecorder is told how long after its commit a browser tab
// applied a revision of a topic (metrics.Metrics is one).
type FreshnessRecorder interface {
	ClientFreshness(topic string, d time.Duration)
}

// Bounds of a freshness report. A sample older than maxFreshnessAge was
// held by a tab that slept (a report is sent within seconds of the apply);
// a freshness above maxFreshness is counted as maxFreshness, so that a
// made-up revision cannot move the histogram's sum without bound.
const (
	maxFreshnessAge = time.Hour
	maxFreshness    = time.Hour
	// freshnessSampleBytes is the room one sample may take in the body:
	// a topic name of 128 characters, a revision of 20 digits, a number.
	freshnessSampleBytes = 256
)

// freshnessLimit returns the body limit of a report of at most
// maxSamples samples.
func freshnessLimit(maxSamples int) int64 { return 64 + int64(maxSamples)*freshnessSampleBytes }

// FreshnessConfig is what the freshness route needs.
type FreshnessConfig struct {
	// Recorder receives the measurements; nil turns the route off (404).
	Recorder FreshnessRecorder
	// MaxSamples caps the samples of one report.
	MaxSamples int
	// Allow rate-limits reports per principal; nil allows every report.
	Allow func(principal string, now time.Time) (bool, time.Duration)
	// Now is the server's clock; nil means time.Now.
	Now func() time.Time
}

// Infoer tells the store's identity (its initial revision).
type Infoer interface {
	Info() store.Info
}

// freshnessReport is the body of POST /api/freshness.
type freshnessReport struct {
	Samples []freshnessSample `json:"samples"`
}

type freshnessSample struct {
	Topic    string `json:"topic"`
	Revision string `json:"revision"`
	// AppliedAgoMs is how long before sending the tab applied the
	// revision, on the tab's monotonic clock: the only time the client
	// reports, so the server never compares its clock with the client's.
	AppliedAgoMs *float64 `json:"appliedAgoMs"`
}

// Freshness serves POST /api/freshness: a tab reports when it applied
// revisions announced by invalidations, and the server records, per topic,
// how long after the commit that was. The revision is the commit's time
// in server microseconds (store.NextRevision), and the apply time is the
// report's arrival minus appliedAgoMs, both on the server's clock; the
// report's one-way latency is the error, always in the direction of less
// fresh. A report is recorded whole or not at all.
func Freshness(topics *topic.Set, docs Infoer, who auth.Authenticator, cfg FreshnessConfig) echo.HandlerFunc {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	limit := freshnessLimit(cfg.MaxSamples)
	return func(c echo.Context) error {
		received := now()
		if cfg.Recorder == nil {
			return notFound("This server does not accept freshness reports (its operator enables them with -client-freshness).")
		}
		id, err := auth.Identify(who, c.Response(), c.Request())
		if err != nil {
			return err
		}
		if cfg.Allow != nil {
			if ok, wait := cfg.Allow(id.Principal, received); !ok {
				return &auth.Refusal{Err: auth.ErrRateLimited, RetryAfter: wait,
					Detail: "Too many freshness reports from this caller; retry after the time in Retry-After."}
			}
		}
		body, err := readBody(c, limit, protocol.MediaJSON)
		if err != nil {
			return err
		}
		var rep freshnessReport
		if err := json.Unmarshal(body, &rep, json.RejectUnknownMembers(true)); err != nil {
			return reportError(err)
		}
		targets, err := checkReport(topics, docs.Info().Initial, rep, cfg.MaxSamples)
		if err != nil {
			return err
		}
		// Every topic must be readable before anything is recorded: a
		// tab reports only what it was allowed to read.
		for _, t := range targets {
			if _, err := access(who, id, t, auth.OpRead, nil); err != nil {
				return err
			}
		}
		for i, s := range rep.Samples {
			rev, _ := store.ParseRevision(s.Revision) // checked above
			applied := received.Add(-time.Duration(*s.AppliedAgoMs * float64(time.Millisecond)))
			d := applied.Sub(time.UnixMicro(int64(rev)))
			// Below zero: the revision is ahead of this server's clock (a
			// burst of writes pushed the hybrid clock ahead, or another
			// instance's clock is ahead of this one's).
			d = min(max(d, 0), maxFreshness)
			cfg.Recorder.ClientFreshness(targets[i].Name(), d)
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// reportError maps a decoding failure: malformed JSON is a 400, JSON of
// the wrong shape a 422 that points at the value.
func reportError(err error) error {
	var syn *jsontext.SyntacticError
	if errors.As(err, &syn) {
		return badRequest("The body is not one well-formed JSON value: " + syn.Error() + ".")
	}
	var sem *json.SemanticError
	if errors.As(err, &sem) {
		ptr := string(sem.JSONPointer)
		rule, param, msg := "type", sem.JSONKind.String(), "This value has the wrong JSON type."
		if errors.Is(sem.Err, json.ErrUnknownName) {
			rule, param, msg = "unknown", "", "A freshness report has no such member."
		}
		if sem.JSONKind == 0 {
			param = ""
		}
		return &topic.ValidationError{Errors: []topic.FieldError{{Field: lastToken(ptr), Pointer: ptr, Rule: rule, Param: param, Message: msg}}}
	}
	return badRequest("The body is not a freshness report.")
}

func lastToken(ptr string) string {
	for i := len(ptr) - 1; i >= 0; i-- {
		if ptr[i] == '/' {
			return ptr[i+1:]
		}
	}
	return ptr
}

// checkReport validates every sample and returns the topic of each: a
// registered topic, a canonical revision above the store's initial one
// (only a write raises an invalidation), an age from 0 to maxFreshnessAge.
func checkReport(topics *topic.Set, initial store.Revision, rep freshnessReport, maxSamples int) ([]*topic.Topic, error) {
	var errs []topic.FieldError
	field := func(i int, name, rule, param, msg string) {
		errs = append(errs, topic.FieldError{Field: name, Pointer: "/samples/" + strconv.Itoa(i) + "/" + name, Rule: rule, Param: param, Message: msg})
	}
	switch {
	case len(rep.Samples) == 0:
		return nil, &topic.ValidationError{Errors: []topic.FieldError{{Field: "samples", Pointer: "/samples", Rule: "required",
			Message: "A report needs at least one sample."}}}
	case len(rep.Samples) > maxSamples:
		return nil, &topic.ValidationError{Errors: []topic.FieldError{{Field: "samples", Pointer: "/samples", Rule: "max", Param: strconv.Itoa(maxSamples),
			Message: fmt.Sprintf("A report has at most %d samples.", maxSamples)}}}
	}
	maxAge := float64(maxFreshnessAge / time.Millisecond)
	out := make([]*topic.Topic, len(rep.Samples))
	for i, s := range rep.Samples {
		if t, ok := topics.Lookup(s.Topic); ok && protocol.ValidTopicName(s.Topic) {
			out[i] = t
		} else {
			field(i, "topic", "oneof", "", "There is no such topic.")
		}
		switch rev, err := store.ParseRevision(s.Revision); {
		case err != nil:
			field(i, "revision", "revision", "", "A revision is the decimal form of an unsigned 64-bit integer.")
		case rev <= initial:
			field(i, "revision", "gt", initial.String(), "This revision was never committed by a write.")
		}
		switch a := s.AppliedAgoMs; {
		case a == nil:
			field(i, "appliedAgoMs", "required", "", "Say how many milliseconds ago the revision was applied.")
		case *a < 0:
			field(i, "appliedAgoMs", "min", "0", "The time since the apply cannot be negative.")
		case *a > maxAge:
			field(i, "appliedAgoMs", "max", strconv.FormatFloat(maxAge, 'f', -1, 64), "A sample is sent within an hour of its apply.")
		}
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b topic.FieldError) int {
			switch {
			case a.Pointer < b.Pointer:
				return -1
			case a.Pointer > b.Pointer:
				return 1
			}
			return 0
		})
		return nil, &topic.ValidationError{Errors: errs}
	}
	return out, nil
}
