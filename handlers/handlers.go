// Package handlers turns HTTP requests into topic operations, following
// docs/protocol.md. Each maker takes only what its handler needs and returns an
// echo.HandlerFunc; errors are returned, never written, and become
// problem+json in exactly one place (ErrorHandler).
package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/pinionkit/pinion/auth"
	"github.com/pinionkit/pinion/protocol"
	"github.com/pinionkit/pinion/store"
	"github.com/pinionkit/pinion/topic"
)

// Reader reads one document.
type Reader interface {
	Get(ctx context.Context, key store.Key) (store.Document, error)
}

// Writer commits one document.
type Writer interface {
	Update(ctx context.Context, key store.Key, sourceID string, fn store.UpdateFunc) (store.Document, error)
}

// resolve finds the topic named in the path; an unknown or malformed name
// is a 404 either way.
func resolve(topics *topic.Set, name string) (*topic.Topic, error) {
	if !protocol.ValidTopicName(name) {
		return nil, notFound("There is no topic named %q.", name)
	}
	t, ok := topics.Lookup(name)
	if !ok {
		return nil, notFound("There is no topic named %q.", name)
	}
	return t, nil
}

// keyFor names the caller's document of t: per-principal topics are keyed
// by the principal and per-tenant ones by the verified tenant, neither of
// which ever appears in a URL. A caller without a tenant has no document
// of a per-tenant topic.
func keyFor(t *topic.Topic, id auth.Identity) (store.Key, bool) {
	switch t.Scope() {
	case topic.PerPrincipal:
		return store.Key{Topic: t.Name(), Principal: id.Principal}, true
	case topic.PerTenant:
		if id.Tenant == "" {
			return store.Key{}, false
		}
		// "tenant:" cannot begin a principal of Pinion's authenticators
		// ("browser:", "user:"), so the two kinds of keys never meet.
		return store.Key{Topic: t.Name(), Principal: "tenant:" + id.Tenant}, true
	}
	return store.Key{Topic: t.Name()}, true
}

// access is the one place that decides whether the caller may do op on
// t: the tenant scope, then the topic's policy (asked through the
// authenticator, which holds the policies). current is the document before
// a write, nil for reads.
func access(who auth.Authenticator, id auth.Identity, t *topic.Topic, op string, current []byte) (store.Key, error) {
	key, ok := keyFor(t, id)
	if !ok {
		return store.Key{}, &auth.Refusal{Err: auth.ErrForbidden,
			Detail: fmt.Sprintf("Topic %q is kept per tenant, and the caller's credential names no tenant.", t.Name())}
	}
	if err := auth.Authorize(who, id, t.Name(), op, current); err != nil {
		return store.Key{}, err
	}
	return key, nil
}

func etag(r store.Revision) string { return `"` + r.String() + `"` }

// setCaching sets the cache headers of a snapshot: per-principal documents
// must never be shared by a cache between users.
func setCaching(h http.Header, t *topic.Topic, rev store.Revision) {
	h.Set("ETag", etag(rev))
	if t.Scope() != topic.Shared {
		h.Set("Cache-Control", protocol.CachePrivate)
		h.Set("Vary", protocol.VaryPrincipal)
	} else {
		h.Set("Cache-Control", protocol.CacheShared)
	}
}

// snapshot renders {"revision": ..., "data": ...}. data is canonical JSON
// from the store, so it is spliced in rather than decoded and re-encoded.
func snapshot(rev store.Revision, data []byte) []byte {
	r := rev.String()
	b := make([]byte, 0, len(data)+len(r)+27)
	b = append(b, `{"revision":"`...)
	b = append(b, r...)
	b = append(b, `","data":`...)
	b = append(b, data...)
	return append(b, '}')
}

// document returns the data to show for doc: the topic's default when the
// document was never written.
func document(t *topic.Topic, doc store.Document) []byte {
	if doc.Written() {
		return doc.Data
	}
	return t.Default()
}

func writeSnapshot(c echo.Context, t *topic.Topic, doc store.Document) error {
	setCaching(c.Response().Header(), t, doc.Revision)
	return c.Blob(http.StatusOK, protocol.MediaJSON, snapshot(doc.Revision, document(t, doc)))
}

// entityTags parses an If-Match or If-None-Match value: "*" or a
// comma-separated list of entity tags. ok is false when it is malformed.
type entityTag struct {
	weak  bool
	value string
}

func parseETags(values []string) (any bool, tags []entityTag, ok bool) {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			p := strings.TrimSpace(part)
			switch {
			case p == "":
				continue
			case p == "*":
				any = true
				continue
			}
			weak := strings.HasPrefix(p, "W/")
			p = strings.TrimPrefix(p, "W/")
			if len(p) < 2 || p[0] != '"' || p[len(p)-1] != '"' || strings.ContainsAny(p[1:len(p)-1], `"`) {
				return false, nil, false
			}
			tags = append(tags, entityTag{weak: weak, value: p[1 : len(p)-1]})
		}
	}
	return any, tags, true
}

// precondition is a parsed If-Match header.
type precondition struct {
	present bool
	any     bool
	tags    []entityTag
}

// matches uses the strong comparison RFC 9110 requires for If-Match: weak
// tags never match.
func (p precondition) matches(rev store.Revision) bool {
	if !p.present || p.any {
		return true
	}
	r := rev.String()
	for _, t := range p.tags {
		if !t.weak && t.value == r {
			return true
		}
	}
	return false
}

// notModified reports whether If-None-Match names rev (weak comparison).
func notModified(r *http.Request, rev store.Revision) bool {
	values := r.Header.Values("If-None-Match")
	if len(values) == 0 {
		return false
	}
	any, tags, ok := parseETags(values)
	if !ok {
		return false // a malformed validator is ignored, as RFC 9110 allows
	}
	if any {
		return true
	}
	s := rev.String()
	for _, t := range tags {
		if t.value == s {
			return true
		}
	}
	return false
}
