package metrics

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Middleware observes the topic routes of the public API: write durations
// by topic, operation and status; snapshot reads by status (200 vs 304);
// and the rules named by 422 answers. known bounds the topic label to the
// registered topics (anything else is "unknown"), so a client cannot grow
// the series without limit. Other paths, event streams included, pass
// through untouched.
func (m *Metrics) Middleware(known func(topic string) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if m == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			name, op, ok := route(r.Method, r.URL.Path)
			if !ok {
				next.ServeHTTP(w, r)
				return
			}
			if !known(name) {
				name = "unknown"
			}
			rec := &recorder{ResponseWriter: w, status: http.StatusOK}
			start := time.Now()
			next.ServeHTTP(rec, r)
			status := strconv.Itoa(rec.status)
			if op == "snapshot" {
				m.snapshots.WithLabelValues(name, status).Inc()
				return
			}
			m.writeDuration.WithLabelValues(name, op, status).Observe(time.Since(start).Seconds())
			if rec.status == http.StatusUnprocessableEntity {
				for _, rule := range rules(rec.body.Bytes()) {
					m.validation.WithLabelValues(name, rule).Inc()
				}
			}
		})
	}
}

// route recognises /api/topics/{topic} and /api/topics/{topic}/actions/{a}.
func route(method, path string) (topic, op string, ok bool) {
	rest, found := strings.CutPrefix(path, "/api/topics/")
	if !found || rest == "" {
		return "", "", false
	}
	name, action, hasAction := strings.Cut(rest, "/")
	if hasAction {
		a, isAction := strings.CutPrefix(action, "actions/")
		if !isAction || a == "" || strings.Contains(a, "/") || method != http.MethodPost {
			return "", "", false
		}
		return name, "action", true
	}
	switch method {
	case http.MethodGet, http.MethodHead:
		return name, "snapshot", true
	case http.MethodPut:
		return name, "replace", true
	case http.MethodPatch:
		return name, "patch", true
	case http.MethodDelete:
		return name, "reset", true
	}
	return "", "", false
}

// maxProblem bounds how much of a 422 body is kept to read its rules.
const maxProblem = 64 << 10

// recorder remembers the status, and the body of a 422 answer.
type recorder struct {
	http.ResponseWriter
	status  int
	written bool
	body    bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if !r.written {
		r.status, r.written = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	r.written = true
	if r.status == http.StatusUnprocessableEntity && r.body.Len()+len(p) <= maxProblem {
		r.body.Write(p)
	}
	return r.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// rules reads the rule of each entry of a validation problem. A rule that
// does not look like a validator tag is counted as "other", so the label
// set stays bounded whatever an action returns.
func rules(body []byte) []string {
	var p struct {
		Errors []struct {
			Rule string `json:"rule"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &p) != nil {
		return nil
	}
	out := make([]string, 0, len(p.Errors))
	for _, e := range p.Errors {
		out = append(out, ruleLabel(e.Rule))
	}
	return out
}

func ruleLabel(rule string) string {
	if rule == "" || len(rule) > 32 {
		return "other"
	}
	for i := 0; i < len(rule); i++ {
		c := rule[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return "other"
		}
	}
	return rule
}
