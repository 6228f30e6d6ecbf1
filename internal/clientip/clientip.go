// Package clientip finds the address of the client behind a request, the
// one thing per-address limits (write rates, stream caps) key on. A
// forwarding header is believed only from a configured trusted proxy:
// anyone else could write any address into it.
package clientip

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver knows which peers are trusted proxies.
type Resolver struct {
	trusted []netip.Prefix
}

// New returns a resolver that believes X-Forwarded-For from peers in the
// given addresses or CIDR prefixes ("10.0.0.0/8", "127.0.0.1").
func New(trusted []string) (*Resolver, error) {
	r := &Resolver{}
	for _, s := range trusted {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("trusted proxy %q is neither an address nor a CIDR prefix; write for example 10.0.0.0/8 or 127.0.0.1", s)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		r.trusted = append(r.trusted, p.Masked())
	}
	return r, nil
}

func (r *Resolver) isTrusted(a netip.Addr) bool {
	if r == nil {
		return false
	}
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Addr returns the client's address: the peer's, or, when the peer is a
// trusted proxy, the rightmost X-Forwarded-For entry that is not one (the
// entries further left were written by the client and prove nothing).
func (r *Resolver) Addr(req *http.Request) netip.Addr {
	peer := peerAddr(req.RemoteAddr)
	if !r.isTrusted(peer) {
		return peer
	}
	hops := req.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return peer // a malformed chain: trust nothing beyond the proxy
			}
			a = a.Unmap()
			if !r.isTrusted(a) {
				return a
			}
			peer = a
		}
	}
	return peer
}

// Key is the address as a limit's key: IPv6 clients are grouped by /64,
// the block one subscriber usually holds, so that rotating through it
// gains nothing.
func (r *Resolver) Key(req *http.Request) string {
	return KeyOf(r.Addr(req))
}

// KeyOf is the limit key of an address; see Key.
func KeyOf(a netip.Addr) string {
	if a.Is6() && !a.Is4In6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}
