// Package auth decides who is asking. Pinion needs a principal for
// per-principal topics and for stream limits; how it is derived from a
// request is a seam, so that real authentication can replace the
// development default without touching the handlers.
package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"github.com/pinionkit/pinion/protocol"
)

// Authenticator derives the principal of a request. It may set headers
// (the development default sets a cookie on first contact). It returns
// ErrUnauthenticated or ErrForbidden (possibly wrapped) to refuse a
// request; the HTTP layer answers 401 and 403.
type Authenticator interface {
	Authenticate(w http.ResponseWriter, r *http.Request) (principal string, err error)
}

// Errors an authenticator returns; the HTTP layer maps them to 401 and 403.
var (
	ErrUnauthenticated = errors.New("auth: no valid credentials")
	ErrForbidden       = errors.New("auth: not allowed")
)

// Cookie is the development authenticator: it gives every browser its own
// principal through a random, HttpOnly, SameSite=Lax cookie set on first
// contact. It proves nothing about who the user is; it only tells browsers
// apart, which is what per-principal topics need in development.
type Cookie struct {
	// Name of the cookie. Default protocol.SessionCookie.
	Name string
	// Secure marks the cookie Secure (set it when serving over HTTPS).
	Secure bool
	// MaxAge is the cookie's lifetime. Default one year.
	MaxAge time.Duration
}

const idBytes = 16

// Authenticate returns the browser's principal, issuing a cookie when the
// request carries none (or one that was not issued by this scheme).
func (a Cookie) Authenticate(w http.ResponseWriter, r *http.Request) (string, error) {
	name := a.Name
	if name == "" {
		name = protocol.SessionCookie
	}
	if ck, err := r.Cookie(name); err == nil && validID(ck.Value) {
		return "browser:" + ck.Value, nil
	}
	var b [idBytes]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	id := hex.EncodeToString(b[:])
	age := a.MaxAge
	if age <= 0 {
		age = 365 * 24 * time.Hour
	}
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    id,
		Path:     "/",
		MaxAge:   int(age / time.Second),
		HttpOnly: true,
		Secure:   a.Secure,
		SameSite: http.SameSiteLaxMode,
	})
	// The cookie also has to count for the rest of this request, so the
	// principal is the new id.
	return "browser:" + id, nil
}

func validID(s string) bool {
	if len(s) != 2*idBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
