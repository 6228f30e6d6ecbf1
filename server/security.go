package server

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/pinionkit/pinion/auth"
	"github.com/pinionkit/pinion/internal/clientip"
	"github.com/pinionkit/pinion/protocol"
)

// Security is what a server exposed beyond a trusted loopback needs.
// Zero values of the limits mean no limit (cmd/pinion sets defaults).
type Security struct {
	// AllowedHosts are the host names (without port) requests may name in
	// Host; anything else answers 421, which defeats DNS rebinding. Empty:
	// the loopback names (localhost, 127.0.0.1, ::1) plus the listen
	// address's host when it names one. "*" allows every host.
	AllowedHosts []string
	// TrustedProxies are the addresses or CIDR prefixes of proxies whose
	// X-Forwarded-For is believed for the client address.
	TrustedProxies []string
	// RatePerPrincipal and RatePerAddress bound writes per second (bursts
	// of twice as many, at least 1) per principal and per client address;
	// beyond, 429 with Retry-After.
	RatePerPrincipal float64
	RatePerAddress   float64
	// NewPrincipalsPerMinute bounds, per client address, how many new
	// anonymous principals (issued less than an hour before) may start
	// writing per minute: each can create one document per per-principal
	// topic.
	NewPrincipalsPerMinute int
	// MaxInflightBytes bounds the request bodies being received at once,
	// counted at their declared length (or the body limit when unknown);
	// beyond, 429 with Retry-After.
	MaxInflightBytes int64
	// Policies decide who may read and write each topic; see auth.Policy.
	Policies auth.Policies
	// WriteTimeout bounds the writing of every response except event
	// streams (which bound each write themselves). Default 30s.
	WriteTimeout time.Duration
	// MaxHeaderBytes bounds a request's header section (net/http allows
	// 4 KiB more before it refuses); beyond, 431 with a problem body.
	// Default 64 KiB: a bearer token and cookies fit many times over.
	MaxHeaderBytes int
}

// checkOrigins refuses CORS origins that cannot work, saying what to
// write instead.
func checkOrigins(origins []string) error {
	var problems []error
	for _, o := range origins {
		switch u, err := url.Parse(o); {
		case o == "*":
			problems = append(problems, errors.New(`CORS origin "*" cannot be used: the API is called with credentials, which browsers refuse with "*"; list the origins, for example https://app.example.com`))
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			problems = append(problems, fmt.Errorf("CORS origin %q is not an origin; write scheme://host[:port], for example https://app.example.com", o))
		case strings.HasSuffix(o, "/"):
			problems = append(problems, fmt.Errorf("CORS origin %q ends with a slash, which a browser never sends; write %q", o, strings.TrimRight(o, "/")))
		case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
			problems = append(problems, fmt.Errorf("CORS origin %q has more than scheme://host[:port]; write %q", o, u.Scheme+"://"+u.Host))
		case o != strings.ToLower(o):
			problems = append(problems, fmt.Errorf("CORS origin %q has capitals, which a browser never sends; write %q", o, strings.ToLower(o)))
		}
	}
	return errors.Join(problems...)
}

// hostNames returns the names Host may carry, or nil for any.
func hostNames(sec Security, addr string) map[string]bool {
	if slices.Contains(sec.AllowedHosts, "*") {
		return nil
	}
	names := map[string]bool{}
	if len(sec.AllowedHosts) == 0 {
		for _, n := range []string{"localhost", "127.0.0.1", "::1"} {
			names[n] = true
		}
		if host, _, err := net.SplitHostPort(addr); err == nil && host != "" && host != "0.0.0.0" && host != "::" {
			names[strings.ToLower(host)] = true
		}
	}
	for _, h := range sec.AllowedHosts {
		names[strings.ToLower(strings.TrimSpace(h))] = true
	}
	return names
}

// contentSecurityPolicy lets the app load only its own scripts, styles,
// images and connections, and be framed by nobody.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// security installs the hardening that runs before routing (Host, method)
// and around every handler (headers, write deadline, body memory).
func (s *Server) security(eventsPath string) {
	e := s.echo
	names := hostNames(s.cfg.Security, s.cfg.Addr)
	e.Pre(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if names != nil {
				host := c.Request().Host
				if h, _, err := net.SplitHostPort(host); err == nil {
					host = h
				}
				host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
				if !names[strings.ToLower(host)] {
					return echo.NewHTTPError(http.StatusMisdirectedRequest,
						"This server does not answer for the host named in the request; the operator lists its names with -allowed-hosts.")
				}
			}
			return next(c)
		}
	})
	e.Pre(s.methods(eventsPath))
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			res := c.Response()
			h := res.Header()
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Content-Security-Policy", contentSecurityPolicy)
			res.Before(func() {
				// A response that sets a cookie is for this browser only;
				// a shared cache would hand the cookie to everyone.
				if len(h.Values("Set-Cookie")) == 0 {
					return
				}
				switch cc := h.Get("Cache-Control"); {
				case cc == "":
					h.Set("Cache-Control", protocol.CachePrivate)
				case !strings.Contains(cc, "private") && !strings.Contains(cc, "no-store"):
					cc = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(cc, "public, ", ""), "public", ""))
					h.Set("Cache-Control", strings.TrimSuffix("private, "+cc, ", "))
				}
				if !slices.Contains(h.Values("Vary"), "Cookie") {
					h.Add("Vary", "Cookie")
				}
			})
			return next(c)
		}
	})
	if limit := s.cfg.Security.MaxInflightBytes; limit > 0 {
		inflight := &byteBudget{limit: limit}
		e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				r := c.Request()
				if r.Body == nil || r.Body == http.NoBody || !isWrite(r.Method) {
					return next(c)
				}
				n := s.cfg.BodyLimit
				if r.ContentLength >= 0 && r.ContentLength < n {
					n = r.ContentLength
				}
				if !inflight.take(n) {
					return &auth.Refusal{Err: auth.ErrRateLimited, RetryAfter: time.Second,
						Detail: "The server is receiving too many request bodies at once; retry after the time in Retry-After."}
				}
				defer inflight.give(n)
				return next(c)
			}
		})
	}
}

// writeDeadline bounds the writing of every response but the event
// stream: a client that never reads must not hold a goroutine and a
// connection for ever. It wraps the handler outermost, so that it holds
// the connection's own ResponseWriter.
func writeDeadline(next http.Handler, eventsPath string, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != eventsPath {
			_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
		}
		next.ServeHTTP(w, r)
	})
}

// byteBudget is a counter of bytes in use that refuses rather than waits:
// a queue of waiting bodies would hold the memory it is meant to bound.
type byteBudget struct {
	mu    sync.Mutex
	used  int64
	limit int64
}

func (b *byteBudget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.limit && b.used > 0 {
		return false
	}
	b.used += n
	return true
}

func (b *byteBudget) give(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

// routeMethods returns the methods routed for path, not counting the
// catch-all routes.
func (s *Server) routeMethods(path string) []string {
	s.routesOnce.Do(func() {
		for _, r := range s.echo.Routes() {
			if !strings.HasSuffix(r.Path, "*") && r.Method != echo.RouteNotFound {
				s.routeTable = append(s.routeTable, r)
			}
		}
	})
	var methods []string
	for _, r := range s.routeTable {
		if matchPath(r.Path, path) && !slices.Contains(methods, r.Method) {
			methods = append(methods, r.Method)
		}
	}
	return methods
}

// headAsGet serves HEAD as GET with the body dropped, on every route with
// a GET but the event stream (which a HEAD would open for nothing). The
// handler sees a copy saying GET; net/http still sees HEAD on the
// original and drops the body. Echo routes by the original request, so
// this wraps it from outside.
func (s *Server) headAsGet(next http.Handler, eventsPath string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead && r.URL.Path != eventsPath {
			if m := s.routeMethods(r.URL.Path); slices.Contains(m, http.MethodGet) && !slices.Contains(m, http.MethodHead) {
				g := r.Clone(r.Context())
				g.Method = http.MethodGet
				r = g
			}
		}
		next.ServeHTTP(w, r)
	})
}

// methods answers a method that a known path does not support with 405
// and Allow, instead of falling through to the app or a 404.
func (s *Server) methods(eventsPath string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			methods := s.routeMethods(r.URL.Path)
			if len(methods) == 0 || r.Method == http.MethodOptions {
				return next(c)
			}
			if slices.Contains(methods, http.MethodGet) && !slices.Contains(methods, http.MethodHead) && r.URL.Path != eventsPath {
				methods = append(methods, http.MethodHead)
			}
			if !slices.Contains(methods, r.Method) {
				slices.Sort(methods)
				c.Response().Header().Set("Allow", strings.Join(methods, ", "))
				return echo.NewHTTPError(http.StatusMethodNotAllowed)
			}
			return next(c)
		}
	}
}

// matchPath matches an Echo route pattern (":name" segments) against a
// request path.
func matchPath(pattern, path string) bool {
	ps, qs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(qs) {
		return false
	}
	for i := range ps {
		if strings.HasPrefix(ps[i], ":") {
			if qs[i] == "" {
				return false
			}
			continue
		}
		if ps[i] != qs[i] {
			return false
		}
	}
	return true
}

// newGuard wraps who with the write checks of sec.
func newGuard(who auth.Authenticator, origins []string, sec Security) (*guard, error) {
	addrs, err := clientip.New(sec.TrustedProxies)
	if err != nil {
		return nil, err
	}
	g := &guard{
		inner:        who,
		addrs:        addrs,
		origins:      map[string]bool{},
		perPrincipal: newKeyedLimiter(sec.RatePerPrincipal, int(max(1, 2*sec.RatePerPrincipal))),
		perAddress:   newKeyedLimiter(sec.RatePerAddress, int(max(1, 2*sec.RatePerAddress))),
		fresh:        newNewPrincipals(sec.NewPrincipalsPerMinute, time.Hour),
		policies:     sec.Policies,
		now:          time.Now,
	}
	for _, o := range origins {
		g.origins[o] = true
	}
	return g, nil
}
