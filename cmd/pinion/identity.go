package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pinionkit/pinion/auth"
)

// identity are the flags that choose how callers are identified.
type identity struct {
	mode        string
	secretFile  string
	jwks        string
	issuer      string
	audience    string
	leeway      time.Duration
	tenantClaim string
}

func (i *identity) bind(e *envFlags) {
	e.String(&i.mode, "auth", "PINION_AUTH", "dev",
		"how callers are identified: dev (a signed cookie per browser, loopback only) or jwt (bearer tokens)")
	e.String(&i.secretFile, "jwt-secret-file", "PINION_JWT_SECRET_FILE", "",
		"file holding the HS256 key (32+ bytes) of -auth jwt")
	e.String(&i.jwks, "jwt-jwks", "PINION_JWT_JWKS", "",
		"JSON Web Key Set of -auth jwt (RS256, ES256, EdDSA...): a file, or an https URL kept fresh")
	e.String(&i.issuer, "jwt-issuer", "PINION_JWT_ISSUER", "", "required iss claim of -auth jwt; empty = not checked")
	e.String(&i.audience, "jwt-audience", "PINION_JWT_AUDIENCE", "", "required aud claim of -auth jwt; empty = not checked")
	e.Duration(&i.leeway, "jwt-leeway", "PINION_JWT_LEEWAY", 30*time.Second, "clock skew allowed on exp, nbf and iat")
	e.String(&i.tenantClaim, "jwt-tenant-claim", "PINION_JWT_TENANT_CLAIM", "tenant", "claim that names the caller's tenant")
}

// authenticator builds the configured authenticator. ctx bounds the
// background refresh of a JWKS URL.
func (i *identity) authenticator(ctx context.Context, o options) (auth.Authenticator, error) {
	switch i.mode {
	case "dev":
		if i.secretFile != "" || i.jwks != "" {
			return nil, errors.New("-jwt-secret-file and -jwt-jwks need -auth jwt")
		}
		if err := checkDevAuth(o.addr, o.limits.forceDevAuth); err != nil {
			return nil, err
		}
		keyFile := o.limits.sessionKeyFile
		if keyFile == "" {
			keyFile = o.dataDir + string(os.PathSeparator) + "session.key"
		}
		key, err := auth.LoadOrCreateKey(keyFile)
		if err != nil {
			return nil, err
		}
		return auth.Cookie{Key: key, Secure: o.secure}, nil
	case "jwt":
		cfg := auth.JWTConfig{JWKS: i.jwks, Issuer: i.issuer, Audience: i.audience, Leeway: i.leeway,
			TenantClaim: i.tenantClaim, Secure: o.secure}
		if i.secretFile != "" {
			secret, err := readSecret(i.secretFile)
			if err != nil {
				return nil, err
			}
			cfg.Secret = secret
		}
		return auth.NewJWT(ctx, cfg)
	}
	return nil, fmt.Errorf("-auth %q is not a mode; write -auth dev or -auth jwt", i.mode)
}

func readSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the JWT secret: %w", err)
	}
	return []byte(strings.TrimRight(string(b), "\r\n")), nil
}

// mintToken is `pinion token`: it prints an HS256 token signed with the
// secret file, for trying -auth jwt out and for tests.
func mintToken(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pinion token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	secretFile := fs.String("secret-file", "", "file holding the HS256 key (as -jwt-secret-file)")
	sub := fs.String("sub", "", "the subject: the principal")
	tenant := fs.String("tenant", "", "the tenant (claim named by -tenant-claim)")
	tenantClaim := fs.String("tenant-claim", "tenant", "claim that names the tenant")
	roles := fs.String("roles", "", "comma-separated roles (the roles claim), such as admin")
	ttl := fs.Duration("ttl", time.Hour, "lifetime")
	issuer := fs.String("issuer", "", "iss claim")
	audience := fs.String("audience", "", "aud claim")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *secretFile == "" || *sub == "" {
		return errors.New("token: -secret-file and -sub are required; for example: pinion token -secret-file jwt.key -sub alice -roles admin")
	}
	secret, err := readSecret(*secretFile)
	if err != nil {
		return err
	}
	now := time.Now()
	claims := jwt.MapClaims{"sub": *sub, "iat": now.Unix(), "exp": now.Add(*ttl).Unix()}
	if *tenant != "" {
		claims[*tenantClaim] = *tenant
	}
	if *roles != "" {
		claims["roles"] = splitList(*roles)
	}
	if *issuer != "" {
		claims["iss"] = *issuer
	}
	if *audience != "" {
		claims["aud"] = *audience
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}
