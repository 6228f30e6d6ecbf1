package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pinionkit/pinion/protocol"
)

// Cookie is the development authenticator: it gives every browser its own
// principal through a random id in an HttpOnly, SameSite=Lax cookie set on
// first contact, signed with Key so that only ids this server issued are
// accepted (a made-up id would otherwise be a new principal, free of
// charge, on every request). It proves nothing about who the user is; it
// only tells browsers apart, which is what per-principal topics need in
// development.
type Cookie struct {
	// Key signs the cookies (HMAC-SHA256); at least 32 bytes. See
	// LoadOrCreateKey and NewKey.
	Key []byte
	// Name of the cookie. Default protocol.SessionCookie, with the
	// __Host- prefix when Secure (the browser then refuses the cookie
	// from any other host or path, and over plain HTTP).
	Name string
	// Secure marks the cookie Secure (set it when serving over HTTPS).
	Secure bool
	// MaxAge is the cookie's lifetime. Default one year.
	MaxAge time.Duration
}

// KeySize is the size of a signing key in bytes.
const KeySize = 32

const idBytes = 16

// NewKey returns a random signing key.
func NewKey() []byte {
	k := make([]byte, KeySize)
	_, _ = rand.Read(k) // crypto/rand.Read never fails on supported platforms
	return k
}

// LoadOrCreateKey reads the signing key kept in path, creating it (mode
// 0600) with a new random key when it does not exist, so that sessions
// survive restarts.
func LoadOrCreateKey(path string) ([]byte, error) {
	k, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		k = NewKey()
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("auth: creating the session key: %w", err)
		}
		if _, err := f.Write(k); err != nil {
			f.Close()
			return nil, fmt.Errorf("auth: writing the session key: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("auth: writing the session key: %w", err)
		}
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auth: reading the session key: %w", err)
	}
	if len(k) < KeySize {
		return nil, fmt.Errorf("auth: the session key in %s has %d bytes; it needs at least %d (delete the file to have a new one made)", path, len(k), KeySize)
	}
	return k, nil
}

// CookieName is the name the cookie is sent under.
func (a Cookie) CookieName() string {
	name := a.Name
	if name == "" {
		name = protocol.SessionCookie
	}
	if a.Secure && !strings.HasPrefix(name, "__Host-") {
		name = "__Host-" + name
	}
	return name
}

// Authenticate returns the browser's principal; see Identify.
func (a Cookie) Authenticate(w http.ResponseWriter, r *http.Request) (string, error) {
	id, err := a.Identify(w, r)
	return id.Principal, err
}

// Identify returns the browser's identity, issuing a cookie when the
// request carries none that this server signed. Issuing costs nothing on
// the server: no state is kept until the principal writes.
func (a Cookie) Identify(w http.ResponseWriter, r *http.Request) (Identity, error) {
	if len(a.Key) < KeySize {
		return Identity{}, fmt.Errorf("auth: the development cookie needs a key of at least %d bytes", KeySize)
	}
	name := a.CookieName()
	if ck, err := r.Cookie(name); err == nil {
		if id, since, ok := a.verify(ck.Value); ok {
			return Identity{Principal: "browser:" + id, Cookie: true, Since: since}, nil
		}
	}
	var b [idBytes]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	now := time.Now()
	payload := id + "." + strconv.FormatInt(now.Unix(), 36)
	age := a.MaxAge
	if age <= 0 {
		age = 365 * 24 * time.Hour
	}
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    payload + "." + a.sign(payload),
		Path:     "/",
		MaxAge:   int(age / time.Second),
		HttpOnly: true,
		Secure:   a.Secure,
		SameSite: http.SameSiteLaxMode,
	})
	// The cookie also has to count for the rest of this request, so the
	// principal is the new id.
	return Identity{Principal: "browser:" + id, Cookie: true, Since: now}, nil
}

// sign returns the MAC of a cookie's payload, "<id>.<issued>".
func (a Cookie) sign(payload string) string {
	m := hmac.New(sha256.New, a.Key)
	m.Write([]byte("pinion dev session\x00"))
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// verify returns the id and issue time of a cookie value this server
// signed.
func (a Cookie) verify(v string) (string, time.Time, bool) {
	i := strings.LastIndexByte(v, '.')
	if i < 0 || len(v) > 128 {
		return "", time.Time{}, false
	}
	payload, sig := v[:i], v[i+1:]
	if !hmac.Equal([]byte(sig), []byte(a.sign(payload))) {
		return "", time.Time{}, false
	}
	id, issued, ok := strings.Cut(payload, ".")
	secs, err := strconv.ParseInt(issued, 36, 64)
	if !ok || err != nil || !validID(id) {
		return "", time.Time{}, false
	}
	return id, time.Unix(secs, 0), true
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
