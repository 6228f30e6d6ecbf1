package server

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// keyedLimiter is one token bucket per key (a principal, a client
// address). Buckets that have refilled completely are indistinguishable
// from new ones, so they are dropped on a sweep that runs as part of the
// calls themselves: no goroutine to own, memory bounded by the keys active
// within one refill time.
type keyedLimiter struct {
	limit rate.Limit
	burst int

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

// newKeyedLimiter allows perSecond events per key on average, in bursts
// of burst. perSecond 0 means no limit (nil).
func newKeyedLimiter(perSecond float64, burst int) *keyedLimiter {
	if perSecond <= 0 {
		return nil
	}
	return &keyedLimiter{limit: rate.Limit(perSecond), burst: max(burst, 1), buckets: make(map[string]*bucket)}
}

// allow takes one token for key, or reports how long until one is there.
func (k *keyedLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	if k == nil {
		return true, 0
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	refill := time.Duration(float64(k.burst) / float64(k.limit) * float64(time.Second))
	if now.Sub(k.lastSweep) > max(refill, time.Minute) {
		for key, b := range k.buckets {
			if now.Sub(b.last) > refill {
				delete(k.buckets, key)
			}
		}
		k.lastSweep = now
	}
	b, ok := k.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(k.limit, k.burst)}
		k.buckets[key] = b
	}
	b.last = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// newPrincipals limits, per client address, how many distinct anonymous
// principals issued recently may start writing: each one can create a
// document per per-principal topic, and minting one costs an attacker
// nothing. Principals already admitted write freely (the other limits
// still apply).
type newPrincipals struct {
	lim    *keyedLimiter
	window time.Duration // how long a principal counts as new

	mu        sync.Mutex
	admitted  map[string]time.Time // principal → when admitted
	lastSweep time.Time
}

func newNewPrincipals(perMinute int, window time.Duration) *newPrincipals {
	if perMinute <= 0 {
		return nil
	}
	return &newPrincipals{
		lim:      newKeyedLimiter(float64(perMinute)/60, perMinute),
		window:   window,
		admitted: make(map[string]time.Time),
	}
}

// admit reports whether principal, issued at since, may write from the
// address addrKey.
func (n *newPrincipals) admit(principal, addrKey string, since, now time.Time) (bool, time.Duration) {
	if n == nil || since.IsZero() || now.Sub(since) > n.window {
		return true, 0
	}
	n.mu.Lock()
	if now.Sub(n.lastSweep) > time.Minute {
		for p, at := range n.admitted {
			if now.Sub(at) > n.window {
				delete(n.admitted, p)
			}
		}
		n.lastSweep = now
	}
	_, ok := n.admitted[principal]
	n.mu.Unlock()
	if ok {
		return true, 0
	}
	allowed, wait := n.lim.allow(addrKey, now)
	if allowed {
		n.mu.Lock()
		n.admitted[principal] = now
		n.mu.Unlock()
	}
	return allowed, wait
}
