// Package auth decides who is asking. Pinion needs a principal for
// per-principal topics and for stream limits; how it is derived from a
// request is a seam, so that real authentication can replace the
// development default without touching the handlers.
package auth

import (
	"errors"
	"net/http"
	"time"
)

// Authenticator derives the principal of a request. It may set headers
// (the development default sets a cookie on first contact). It returns
// ErrUnauthenticated or ErrForbidden (possibly wrapped) to refuse a
// request; the HTTP layer answers 401 and 403.
type Authenticator interface {
	Authenticate(w http.ResponseWriter, r *http.Request) (principal string, err error)
}

// Errors an authenticator returns; the HTTP layer maps them to 401, 403
// and 429.
var (
	ErrUnauthenticated = errors.New("auth: no valid credentials")
	ErrForbidden       = errors.New("auth: not allowed")
	ErrRateLimited     = errors.New("auth: too many requests")
)

// Refusal is a refusal with a sentence for the caller: Err is one of the
// errors above, Detail says why, RetryAfter (for ErrRateLimited) when to
// try again.
type Refusal struct {
	Err        error
	Detail     string
	RetryAfter time.Duration
}

func (r *Refusal) Error() string { return r.Err.Error() + ": " + r.Detail }
func (r *Refusal) Unwrap() error { return r.Err }

// Identity is what a request's verified credential says about its caller.
type Identity struct {
	// Principal names the caller; per-principal documents are keyed by it.
	Principal string
	// Tenant is the caller's tenant, taken only from a verified credential;
	// empty when the credential names none.
	Tenant string
	// Claims are the verified credential's claims (nil for the development
	// cookie), for authorisation policies.
	Claims map[string]any
	// Expires is when the credential stops being valid; zero for never.
	// A stream ends then, after telling the client to re-authenticate.
	Expires time.Time
	// Cookie is true when the credential came in a cookie, which a browser
	// sends on cross-site requests too: such writes need a CSRF check.
	Cookie bool
	// Since is when an anonymous principal (the development cookie) was
	// issued; zero for verified identities. New principals own nothing
	// yet, and how many of them may create documents is limited per
	// client address.
	Since time.Time
}

// Identifier is an Authenticator that can say more than the principal.
type Identifier interface {
	Identify(w http.ResponseWriter, r *http.Request) (Identity, error)
}

// Identify returns the identity of a request: the authenticator's own
// when it is an Identifier, otherwise just the principal, treated as
// cookie-borne (the cautious assumption for CSRF).
func Identify(a Authenticator, w http.ResponseWriter, r *http.Request) (Identity, error) {
	if id, ok := a.(Identifier); ok {
		return id.Identify(w, r)
	}
	p, err := a.Authenticate(w, r)
	if err != nil {
		return Identity{}, err
	}
	return Identity{Principal: p, Cookie: true}, nil
}
