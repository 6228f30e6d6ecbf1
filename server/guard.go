package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pinionkit/pinion/auth"
	"github.com/pinionkit/pinion/internal/clientip"
)

// guard wraps the configured authenticator with what every write must
// pass once its caller is known: the CSRF check for cookie-borne
// credentials, the write rate limits per principal and per client
// address, and the limit on new anonymous principals per address. Every
// handler asks the authenticator exactly once, so this is the one place
// these decisions are made.
type guard struct {
	inner        auth.Authenticator
	addrs        *clientip.Resolver
	origins      map[string]bool // allowed CORS origins, exactly as browsers send them
	perPrincipal *keyedLimiter
	perAddress   *keyedLimiter
	fresh        *newPrincipals
	policies     auth.Policies
	now          func() time.Time
}

func (g *guard) Authenticate(w http.ResponseWriter, r *http.Request) (string, error) {
	id, err := g.Identify(w, r)
	return id.Principal, err
}

func (g *guard) Identify(w http.ResponseWriter, r *http.Request) (auth.Identity, error) {
	id, err := auth.Identify(g.inner, w, r)
	if err != nil || !isWrite(r.Method) {
		return id, err
	}
	if id.Cookie {
		if err := g.checkOrigin(r); err != nil {
			return auth.Identity{}, err
		}
	}
	now := g.now()
	addr := g.addrs.Key(r)
	if ok, wait := g.perAddress.allow(addr, now); !ok {
		return auth.Identity{}, &auth.Refusal{Err: auth.ErrRateLimited, RetryAfter: wait,
			Detail: "Too many writes from this address; retry after the time in Retry-After."}
	}
	if ok, wait := g.perPrincipal.allow(id.Principal, now); !ok {
		return auth.Identity{}, &auth.Refusal{Err: auth.ErrRateLimited, RetryAfter: wait,
			Detail: "Too many writes by this caller; retry after the time in Retry-After."}
	}
	if ok, wait := g.fresh.admit(id.Principal, addr, id.Since, now); !ok {
		return auth.Identity{}, &auth.Refusal{Err: auth.ErrRateLimited, RetryAfter: wait,
			Detail: "Too many new sessions started writing from this address; retry after the time in Retry-After."}
	}
	return id, nil
}

// Authorize is the policies' decision (auth.Authorizer).
func (g *guard) Authorize(id auth.Identity, topic, op string, current []byte) error {
	return g.policies.Decide(id, topic, op, current)
}

// StartSession and EndSession forward to the authenticator's sessions,
// for requests from this site or an allowed origin only: a page of
// another site must not log a browser in (into the attacker's session,
// with the development cookie) or out.
func (g *guard) StartSession(w http.ResponseWriter, r *http.Request) (auth.Identity, error) {
	s, ok := g.inner.(auth.Sessions)
	if !ok {
		return auth.Identity{}, &auth.Refusal{Err: auth.ErrUnauthenticated, Detail: "This server's authenticator keeps no sessions."}
	}
	if err := g.checkOrigin(r); err != nil {
		return auth.Identity{}, err
	}
	return s.StartSession(w, r)
}

func (g *guard) EndSession(w http.ResponseWriter, r *http.Request) error {
	s, ok := g.inner.(auth.Sessions)
	if !ok {
		return nil
	}
	if err := g.checkOrigin(r); err != nil {
		return err
	}
	return s.EndSession(w, r)
}

// ClientAddress is the client address per-address limits count (the
// stream caps too): behind a trusted proxy, the forwarded one; IPv6 by /64.
func (g *guard) ClientAddress(r *http.Request) string { return g.addrs.Key(r) }

func isWrite(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// checkOrigin refuses a cookie-authenticated write that a browser sent
// from another site: the browser attaches the cookie to such requests
// too. Sec-Fetch-Site, when present, is the browser's own verdict;
// Origin, sent by every browser on writes, is compared with the request's
// host and the allowed CORS origins. A request with neither header does
// not come from a browser, and so cannot be forged by a web page.
func (g *guard) checkOrigin(r *http.Request) error {
	origin := r.Header.Get("Origin")
	site := r.Header.Get("Sec-Fetch-Site")
	if site == "same-origin" || site == "none" {
		return nil
	}
	if origin == "" {
		if site == "" {
			return nil
		}
		return csrfRefusal("this write came from another site (Sec-Fetch-Site: " + site + ")")
	}
	if g.origins[origin] {
		return nil
	}
	if u, err := url.Parse(origin); err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host) {
		return nil
	}
	return csrfRefusal(fmt.Sprintf("origin %q is neither this server nor an allowed origin", origin))
}

func csrfRefusal(why string) error {
	return &auth.Refusal{Err: auth.ErrForbidden,
		Detail: "Cross-site write refused: " + why + ". A cookie-authenticated write must come from the same origin or an allowed CORS origin (-cors-origins)."}
}
