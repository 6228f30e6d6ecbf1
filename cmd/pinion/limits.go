package main

import (
	"flag"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/pinionkit/pinion/server"
)

// envFlags binds flags to their PINION_ environment twins. A value that
// does not parse is remembered and reported by err, after flag parsing,
// with what to write instead: a misspelt boolean must not quietly mean
// "off".
type envFlags struct {
	fs     *flag.FlagSet
	getenv func(string) string
	errs   []error
}

func (e *envFlags) lookup(env string) (string, bool) {
	v := e.getenv(env)
	return v, v != ""
}

func (e *envFlags) String(p *string, name, env, def, usage string) {
	if v, ok := e.lookup(env); ok {
		def = v
	}
	e.fs.StringVar(p, name, def, usage+" (env "+env+")")
}

func (e *envFlags) Int(p *int, name, env string, def int, usage string) {
	if v, ok := e.lookup(env); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			e.errs = append(e.errs, fmt.Errorf("%s=%q is not a whole number ≥ 0; write for example %s=%d (0 means no limit)", env, v, env, def))
		} else {
			def = n
		}
	}
	e.fs.IntVar(p, name, def, usage+" (env "+env+")")
}

func (e *envFlags) Int64(p *int64, name, env string, def int64, usage string) {
	if v, ok := e.lookup(env); ok {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < 0 {
			e.errs = append(e.errs, fmt.Errorf("%s=%q is not a whole number ≥ 0; write for example %s=%d (0 means no limit)", env, v, env, def))
		} else {
			def = n
		}
	}
	e.fs.Int64Var(p, name, def, usage+" (env "+env+")")
}

func (e *envFlags) Float(p *float64, name, env string, def float64, usage string) {
	if v, ok := e.lookup(env); ok {
		n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || n < 0 {
			e.errs = append(e.errs, fmt.Errorf("%s=%q is not a number ≥ 0; write for example %s=%g (0 means no limit)", env, v, env, def))
		} else {
			def = n
		}
	}
	e.fs.Float64Var(p, name, def, usage+" (env "+env+")")
}

func (e *envFlags) Duration(p *time.Duration, name, env string, def time.Duration, usage string) {
	if v, ok := e.lookup(env); ok {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d < 0 {
			e.errs = append(e.errs, fmt.Errorf("%s=%q is not a duration; write for example %s=%s", env, v, env, def))
		} else {
			def = d
		}
	}
	e.fs.DurationVar(p, name, def, usage+" (env "+env+")")
}

// Bool accepts exactly true or false (and Go's 1/0/t/f spellings, which
// mean what they say); anything else is refused rather than read as off.
func (e *envFlags) Bool(p *bool, name, env string, def bool, usage string) {
	if v, ok := e.lookup(env); ok {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			e.errs = append(e.errs, fmt.Errorf("%s=%q is not a boolean; write %s=true or %s=false", env, v, env, env))
		} else {
			def = b
		}
	}
	e.fs.BoolVar(p, name, def, usage+" (env "+env+")")
}

// limits are the flags that bound what one request can cost, and the
// other settings of a server reachable by untrusted clients.
type limits struct {
	maxJSONDepth   int
	maxJSONMembers int

	allowedHosts     string
	trustedProxies   string
	ratePerPrincipal float64
	ratePerAddress   float64
	newPrincipals    int
	maxInflight      int64
	writeTimeout     time.Duration
	maxHeaderBytes   int

	sessionKeyFile string
	forceDevAuth   bool
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (l *limits) bind(e *envFlags) {
	e.Int(&l.maxJSONDepth, "max-json-depth", "PINION_MAX_JSON_DEPTH", 32,
		"deepest nesting of objects and arrays in a request body; 0 = no limit")
	e.Int(&l.maxJSONMembers, "max-json-members", "PINION_MAX_JSON_MEMBERS", 10000,
		"object members plus array elements in one request body; 0 = no limit")
	e.String(&l.allowedHosts, "allowed-hosts", "PINION_ALLOWED_HOSTS", "",
		"comma-separated host names requests may address (421 otherwise); empty = loopback names and the listen host; * = any")
	e.String(&l.trustedProxies, "trusted-proxies", "PINION_TRUSTED_PROXIES", "",
		"comma-separated addresses or CIDR prefixes of proxies whose X-Forwarded-For names the client")
	e.Float(&l.ratePerPrincipal, "rate-per-principal", "PINION_RATE_PER_PRINCIPAL", 20,
		"writes per second per principal (bursts of twice as many); 0 = no limit")
	e.Float(&l.ratePerAddress, "rate-per-address", "PINION_RATE_PER_ADDRESS", 50,
		"writes per second per client address (bursts of twice as many); 0 = no limit")
	e.Int(&l.newPrincipals, "new-principals-per-address", "PINION_NEW_PRINCIPALS_PER_ADDRESS", 30,
		"new anonymous sessions per client address and minute that may start writing; 0 = no limit")
	e.Int64(&l.maxInflight, "max-inflight-bytes", "PINION_MAX_INFLIGHT_BYTES", 64<<20,
		"request body bytes being received at once, all clients together; 0 = no limit")
	e.Duration(&l.writeTimeout, "write-timeout", "PINION_WRITE_TIMEOUT", 30*time.Second,
		"time to write any response but an event stream")
	e.Int(&l.maxHeaderBytes, "max-header-bytes", "PINION_MAX_HEADER_BYTES", 64<<10,
		"bytes of a request's header section (431 beyond); 0 = the server's default, 65536")
	e.String(&l.sessionKeyFile, "session-key-file", "PINION_SESSION_KEY_FILE", "",
		"file with the key (32+ bytes) that signs development session cookies; empty = session.key in the data directory, created on first start")
	e.Bool(&l.forceDevAuth, "force-dev-auth", "PINION_FORCE_DEV_AUTH", false,
		"allow -auth dev on an address that is not loopback (anyone can then be anyone)")
}

func (l *limits) security() server.Security {
	return server.Security{
		AllowedHosts:           splitList(l.allowedHosts),
		TrustedProxies:         splitList(l.trustedProxies),
		RatePerPrincipal:       l.ratePerPrincipal,
		RatePerAddress:         l.ratePerAddress,
		NewPrincipalsPerMinute: l.newPrincipals,
		MaxInflightBytes:       l.maxInflight,
		WriteTimeout:           l.writeTimeout,
		MaxHeaderBytes:         l.maxHeaderBytes,
	}
}

// checkDevAuth refuses the development authenticator on an address other
// clients can reach, unless forced: it lets anyone be a new principal.
func checkDevAuth(addr string, forced bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if a, err := netip.ParseAddr(host); err == nil && a.IsLoopback() {
		return nil
	}
	if forced {
		return nil
	}
	return fmt.Errorf("-auth dev on %s would let anyone on the network be anyone: listen on 127.0.0.1 (for example -addr 127.0.0.1:8080), use -auth jwt, or add -force-dev-auth if this is really what you want", addr)
}
