package stream

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Config tunes the hub. Zero values take the defaults of docs/protocol.md
// and README's configuration table; values that make no sense are refused
// by Validate (and so by New) with a message naming the setting.
type Config struct {
	// Heartbeat is the longest a stream stays silent: a comment line is
	// written when nothing else was, so proxies do not close idle streams
	// and a vanished peer is noticed. Default 15s.
	Heartbeat time.Duration
	// Retry is the reconnection delay sent at the start of each stream;
	// each stream gets up to 25% more, at random, so that clients cut off
	// together do not come back together. Default 2s.
	Retry time.Duration
	// Queue is how many live invalidations may wait for one stream before
	// it counts as unable to keep up and is disconnected (it resumes from
	// its last id). Replay on connect never counts against it. Default 64.
	Queue int
	// WriteTimeout bounds one write (one event, or one batch of queued
	// events) to a stream's socket; a write that blocks longer ends the
	// stream. Default 10s.
	WriteTimeout time.Duration
	// MaxStreams caps the open streams of the process, MaxPerPrincipal
	// those of one principal, MaxPerAddress those from one client address.
	// 0 means no limit (cmd/pinion derives MaxStreams from the open-file
	// limit).
	MaxStreams      int
	MaxPerPrincipal int
	MaxPerAddress   int
	// Logger receives operational messages, never while a lock of the hub
	// is held. Default: discard.
	Logger *slog.Logger
	// Observer, when set, is told what the streams do (for metrics,
	// without the hub importing a metrics library). Its methods run on
	// the streams' goroutines, never under a lock of the hub, and must be
	// quick.
	Observer Observer
}

// Observer receives the hub's events.
type Observer interface {
	// EventsSent counts invalidations written to a stream.
	EventsSent(n int)
	// Evicted counts a stream the hub ended: "slow" (it fell behind),
	// "shutdown" (the server is draining).
	Evicted(reason string)
	// Replayed records how many invalidations a stream caught up with
	// when it started.
	Replayed(n int)
}

type noObserver struct{}

func (noObserver) EventsSent(int) {}
func (noObserver) Evicted(string) {}
func (noObserver) Replayed(int)   {}

// Bounds of the settings, outside which a value is a mistake (a 3ns
// heartbeat, a queue of a billion events) rather than a choice.
const (
	minInterval = 10 * time.Millisecond
	maxInterval = time.Hour
	maxQueue    = 1 << 16
)

func (c Config) withDefaults() Config {
	if c.Heartbeat == 0 {
		c.Heartbeat = 15 * time.Second
	}
	if c.Retry == 0 {
		c.Retry = 2 * time.Second
	}
	if c.Queue == 0 {
		c.Queue = 64
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Observer == nil {
		c.Observer = noObserver{}
	}
	return c
}

// Validate reports every setting that makes no sense, after defaults.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	interval := func(name string, d time.Duration) {
		if d < minInterval || d > maxInterval {
			errs = append(errs, fmt.Errorf("stream: %s %v is outside %v..%v", name, d, minInterval, maxInterval))
		}
	}
	interval("heartbeat", c.Heartbeat)
	interval("retry", c.Retry)
	interval("write timeout", c.WriteTimeout)
	if c.Queue < 1 || c.Queue > maxQueue {
		errs = append(errs, fmt.Errorf("stream: queue %d is outside 1..%d", c.Queue, maxQueue))
	}
	for _, l := range []struct {
		name string
		n    int
	}{{"max streams", c.MaxStreams}, {"max streams per principal", c.MaxPerPrincipal}, {"max streams per address", c.MaxPerAddress}} {
		if l.n < 0 {
			errs = append(errs, fmt.Errorf("stream: %s %d is negative (0 means no limit)", l.name, l.n))
		}
	}
	return errors.Join(errs...)
}
