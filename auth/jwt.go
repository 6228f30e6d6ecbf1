package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// JWTConfig configures bearer-token authentication.
type JWTConfig struct {
	// Secret is the HS256 key. Exactly one of Secret and JWKS is set.
	Secret []byte
	// JWKS is a JSON Web Key Set for RS256/ES256/EdDSA and the like: a file
	// path, or an https URL that is fetched and kept fresh (keys rotate)
	// until the context given to NewJWT ends.
	JWKS string
	// Issuer and Audience, when set, must match the iss and aud claims.
	Issuer   string
	Audience string
	// Leeway is the clock skew allowed on exp, nbf and iat.
	Leeway time.Duration
	// TenantClaim names the claim that carries the tenant. Default
	// "tenant".
	TenantClaim string
	// CookieName is the session cookie that POST /api/session sets. Default
	// "pinion_token", with the __Host- prefix when Secure.
	CookieName string
	// Secure marks the session cookie Secure.
	Secure bool
}

// JWT authenticates bearer tokens (Authorization: Bearer, or the session
// cookie set from one by StartSession). The principal is "user:<tenant>/<sub>" (escaped);
// the tenant is the tenant claim; the credential expires with exp.
type JWT struct {
	cfg     JWTConfig
	keys    jwt.Keyfunc
	methods []string
	parser  *jwt.Parser
}

// maxToken bounds a token's length: it must fit in a cookie.
const maxToken = 3800

// NewJWT returns a JWT authenticator. A JWKS URL is fetched now (so that
// a wrong URL fails at start) and refreshed in the background until ctx
// ends.
func NewJWT(ctx context.Context, cfg JWTConfig) (*JWT, error) {
	j := &JWT{cfg: cfg}
	if j.cfg.TenantClaim == "" {
		j.cfg.TenantClaim = "tenant"
	}
	if j.cfg.CookieName == "" {
		j.cfg.CookieName = "pinion_token"
	}
	if j.cfg.Secure && !strings.HasPrefix(j.cfg.CookieName, "__Host-") {
		j.cfg.CookieName = "__Host-" + j.cfg.CookieName
	}
	switch {
	case len(cfg.Secret) > 0 && cfg.JWKS != "":
		return nil, errors.New("auth: give either a JWT secret (HS256) or a JWKS, not both")
	case len(cfg.Secret) > 0:
		if len(cfg.Secret) < 32 {
			return nil, fmt.Errorf("auth: the JWT secret has %d bytes; HS256 needs at least 32", len(cfg.Secret))
		}
		secret := cfg.Secret
		j.keys = func(*jwt.Token) (any, error) { return secret, nil }
		j.methods = []string{"HS256"}
	case strings.HasPrefix(cfg.JWKS, "https://") || strings.HasPrefix(cfg.JWKS, "http://"):
		if u, err := url.Parse(cfg.JWKS); err != nil || (u.Scheme != "https" && !isLoopbackHost(u.Hostname())) {
			return nil, fmt.Errorf("auth: the JWKS URL %q must be https (plain http only on loopback)", cfg.JWKS)
		}
		k, err := keyfunc.NewDefaultCtx(ctx, []string{cfg.JWKS})
		if err != nil {
			return nil, fmt.Errorf("auth: fetching the JWKS: %w", err)
		}
		j.keys = k.Keyfunc
	case cfg.JWKS != "":
		raw, err := os.ReadFile(cfg.JWKS)
		if err != nil {
			return nil, fmt.Errorf("auth: reading the JWKS: %w", err)
		}
		k, err := keyfunc.NewJWKSetJSON(json.RawMessage(raw))
		if err != nil {
			return nil, fmt.Errorf("auth: the JWKS in %s: %w", cfg.JWKS, err)
		}
		j.keys = k.Keyfunc
	default:
		return nil, errors.New("auth: JWT authentication needs a secret file (-jwt-secret-file) or a JWKS (-jwt-jwks)")
	}
	if j.methods == nil {
		j.methods = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods(j.methods), jwt.WithLeeway(cfg.Leeway), jwt.WithExpirationRequired()}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	j.parser = jwt.NewParser(opts...)
	return j, nil
}

func isLoopbackHost(h string) bool {
	return h == "localhost" || h == "127.0.0.1" || h == "::1"
}

// CookieName is the session cookie's name.
func (j *JWT) CookieName() string { return j.cfg.CookieName }

// Authenticate returns the principal of the request's token.
func (j *JWT) Authenticate(w http.ResponseWriter, r *http.Request) (string, error) {
	id, err := j.Identify(w, r)
	return id.Principal, err
}

// Identify verifies the request's bearer token, or else its session
// cookie.
func (j *JWT) Identify(_ http.ResponseWriter, r *http.Request) (Identity, error) {
	if tok, ok := bearer(r); ok {
		return j.verify(tok, false)
	}
	if ck, err := r.Cookie(j.cfg.CookieName); err == nil && ck.Value != "" {
		return j.verify(ck.Value, true)
	}
	return Identity{}, &Refusal{Err: ErrUnauthenticated,
		Detail: "This request needs a bearer token (Authorization: Bearer <token>) or a session from POST /api/session."}
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

func (j *JWT) verify(tok string, cookie bool) (Identity, error) {
	if len(tok) > maxToken {
		return Identity{}, &Refusal{Err: ErrUnauthenticated, Detail: fmt.Sprintf("The token is longer than %d bytes.", maxToken)}
	}
	claims := jwt.MapClaims{}
	if _, err := j.parser.ParseWithClaims(tok, claims, j.keys); err != nil {
		return Identity{}, &Refusal{Err: ErrUnauthenticated, Detail: "The token is not valid: " + tokenProblem(err) + "."}
	}
	sub, _ := claims["sub"].(string)
	if sub == "" || len(sub) > 256 {
		return Identity{}, &Refusal{Err: ErrUnauthenticated, Detail: "The token is not valid: it has no sub claim (or one over 256 characters)."}
	}
	id := Identity{Claims: claims, Cookie: cookie}
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil {
		id.Expires = exp.Time
	}
	switch t := claims[j.cfg.TenantClaim].(type) {
	case nil:
	case string:
		if t == "" || len(t) > 128 {
			return Identity{}, &Refusal{Err: ErrUnauthenticated, Detail: "The token's " + j.cfg.TenantClaim + " claim must be a string of 1 to 128 characters."}
		}
		id.Tenant = t
	default:
		return Identity{}, &Refusal{Err: ErrUnauthenticated, Detail: "The token's " + j.cfg.TenantClaim + " claim must be a string."}
	}
	// Subjects are unique within a tenant only: the same sub in two
	// tenants is two principals.
	id.Principal = "user:" + url.PathEscape(id.Tenant) + "/" + url.PathEscape(sub)
	return id, nil
}

// tokenProblem says what is wrong with a token in words that reveal no
// key material.
func tokenProblem(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "it has expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "it is not valid yet"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "it lacks a required claim (exp)"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "wrong audience"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return "the signature does not verify"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "it is malformed"
	}
	return "it does not verify"
}

// StartSession turns the request's bearer token into an HttpOnly session
// cookie that expires with it, so that a browser's EventSource, which
// cannot send headers, is authenticated without a token in its URL.
func (j *JWT) StartSession(w http.ResponseWriter, r *http.Request) (Identity, error) {
	tok, ok := bearer(r)
	if !ok {
		return Identity{}, &Refusal{Err: ErrUnauthenticated, Detail: "POST /api/session needs Authorization: Bearer <token>."}
	}
	id, err := j.verify(tok, false)
	if err != nil {
		return Identity{}, err
	}
	http.SetCookie(w, &http.Cookie{
		Name:     j.cfg.CookieName,
		Value:    tok,
		Path:     "/",
		Expires:  id.Expires,
		MaxAge:   max(1, int(time.Until(id.Expires)/time.Second)),
		HttpOnly: true,
		Secure:   j.cfg.Secure,
		SameSite: http.SameSiteStrictMode,
	})
	return id, nil
}

// EndSession clears the session cookie.
func (j *JWT) EndSession(w http.ResponseWriter, _ *http.Request) error {
	clearCookie(w, j.cfg.CookieName, j.cfg.Secure)
	return nil
}

// Sessions is an authenticator with a session the browser keeps in a
// cookie: POST /api/session starts it, DELETE /api/session ends it.
type Sessions interface {
	StartSession(w http.ResponseWriter, r *http.Request) (Identity, error)
	EndSession(w http.ResponseWriter, r *http.Request) error
}

// StartSession issues the development cookie if the browser has none.
func (a Cookie) StartSession(w http.ResponseWriter, r *http.Request) (Identity, error) {
	return a.Identify(w, r)
}

// EndSession clears the development cookie: the browser's next request
// is a new principal.
func (a Cookie) EndSession(w http.ResponseWriter, _ *http.Request) error {
	clearCookie(w, a.CookieName(), a.Secure)
	return nil
}

func clearCookie(w http.ResponseWriter, name string, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
}
