// Package server assembles Pinion: the Echo router, middleware, the event
// hub and the HTTP server, with a graceful shutdown that ends streams
// first, lets in-flight writes finish, and closes nothing it does not own.
package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/pinionkit/pinion/auth"
	"github.com/pinionkit/pinion/handlers"
	"github.com/pinionkit/pinion/openapi"
	"github.com/pinionkit/pinion/store"
	"github.com/pinionkit/pinion/stream"
	"github.com/pinionkit/pinion/topic"
)

// Config is everything a server can be told. Zero values take defaults.
type Config struct {
	// Addr is the listen address. Default "127.0.0.1:8080"; tests use
	// "127.0.0.1:0".
	Addr string
	// AllowedOrigins lists the origins allowed to call the API from a
	// browser (CORS, with credentials). Empty: same-origin only.
	AllowedOrigins []string
	// BodyLimit caps request bodies. Default 1 MiB.
	BodyLimit int64
	// Heartbeat, Retry, StreamWriteTimeout and the MaxStreams limits tune
	// event streams; see stream.Config (0 means its default, and no limit
	// for the MaxStreams ones).
	Heartbeat              time.Duration
	Retry                  time.Duration
	StreamWriteTimeout     time.Duration
	MaxStreams             int
	MaxStreamsPerPrincipal int
	MaxStreamsPerAddress   int
	// DrainDelay is how long /readyz fails before streams end and the
	// listener closes on shutdown, so that a load balancer stops sending
	// new requests first. Default 0.
	DrainDelay time.Duration
	// ShutdownTimeout bounds how long in-flight requests may take to
	// finish on shutdown, after DrainDelay. Default 10s.
	ShutdownTimeout time.Duration
	// Assets, when set, is served at / as a single-page app (index.html
	// for unknown paths outside /api).
	Assets fs.FS
	// OpenAPI describes the API in the OpenAPI document the server
	// generates from its topics and serves at openapi.Path.
	OpenAPI openapi.Options
	// StreamObserver, when set, is told what event streams do (metrics).
	StreamObserver stream.Observer
	// Middleware, when set, wraps the whole public handler, outside Echo
	// (cmd/pinion uses it for metrics, so that server needs no metrics
	// library).
	Middleware func(http.Handler) http.Handler
	// Security holds the limits and checks for a server reachable by
	// untrusted clients.
	Security Security
	// Freshness turns on the browser-side freshness reports (POST
	// /api/freshness) when its Recorder is set; off, the route answers 404.
	Freshness Freshness
}

// Freshness configures the freshness reports that sampled browser tabs
// send (docs/operations.md).
type Freshness struct {
	// Recorder receives the measurements (metrics.Metrics).
	Recorder handlers.FreshnessRecorder
	// MaxSamples caps the samples of one report; it also sets the report's
	// body limit (handlers.Freshness). Default 20.
	MaxSamples int
	// RatePerPrincipal bounds reports per second per principal (bursts of
	// twice as many, at least 1); beyond, 429. 0: no limit of its own (the
	// write limits of Security still apply: a report is a POST).
	RatePerPrincipal float64
}

// Store is what the server needs from a backend.
type Store interface {
	stream.Source
	Get(ctx context.Context, key store.Key) (store.Document, error)
	Update(ctx context.Context, key store.Key, sourceID string, fn store.UpdateFunc) (store.Document, error)
	Ping(ctx context.Context) error
}

// Server is one Pinion HTTP server.
type Server struct {
	cfg  Config
	log  *slog.Logger
	echo *echo.Echo
	hub  *stream.Hub
	spec []byte // the OpenAPI document of this server's topics
	http *http.Server
	ln   net.Listener

	stopping atomic.Bool // /readyz fails from the start of shutdown

	routesOnce sync.Once
	routeTable []*echo.Route // for 405s and HEAD; see routeMethods
}

// New wires a server. It does not listen; call Open, then Run. It fails
// when the OpenAPI document of topics cannot be generated, rather than
// serve an empty one.
func New(cfg Config, st Store, topics *topic.Set, who auth.Authenticator, log *slog.Logger) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8080"
	}
	if cfg.BodyLimit <= 0 {
		cfg.BodyLimit = 1 << 20
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 10 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Security.WriteTimeout <= 0 {
		cfg.Security.WriteTimeout = 30 * time.Second
	}
	if cfg.Security.MaxHeaderBytes <= 0 {
		cfg.Security.MaxHeaderBytes = 64 << 10
	}
	if err := checkOrigins(cfg.AllowedOrigins); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	guarded, err := newGuard(who, cfg.AllowedOrigins, cfg.Security)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	who = guarded
	spec, err := OpenAPI(topics, cfg.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("server: generating the OpenAPI document: %w", err)
	}
	if cfg.DrainDelay < 0 {
		return nil, fmt.Errorf("server: drain delay %v is negative", cfg.DrainDelay)
	}
	hub, err := stream.New(st, stream.Config{
		Heartbeat:       cfg.Heartbeat,
		Retry:           cfg.Retry,
		WriteTimeout:    cfg.StreamWriteTimeout,
		MaxStreams:      cfg.MaxStreams,
		MaxPerPrincipal: cfg.MaxStreamsPerPrincipal,
		MaxPerAddress:   cfg.MaxStreamsPerAddress,
		Logger:          log,
		Observer:        cfg.StreamObserver,
	})
	if err != nil {
		return nil, err
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = handlers.ErrorHandler(log)
	s := &Server{cfg: cfg, log: log, echo: e, hub: hub, spec: spec}
	if cfg.Freshness.MaxSamples <= 0 {
		cfg.Freshness.MaxSamples = 20
	}
	fresh := handlers.FreshnessConfig{Recorder: cfg.Freshness.Recorder, MaxSamples: cfg.Freshness.MaxSamples}
	if lim := newKeyedLimiter(cfg.Freshness.RatePerPrincipal, int(max(1, 2*cfg.Freshness.RatePerPrincipal))); lim != nil {
		fresh.Allow = lim.allow
	}
	s.routes(deps{st: st, topics: topics, who: who, hub: hub, limit: cfg.BodyLimit, spec: spec, fresh: fresh,
		ready: readiness{st: st, stopping: &s.stopping}})
	var h http.Handler = s.headAsGet(e, "/api/events")
	if cfg.Middleware != nil {
		h = cfg.Middleware(h)
	}
	h = writeDeadline(h, "/api/events", cfg.Security.WriteTimeout)
	s.http = &http.Server{
		Handler: h,
		// No WriteTimeout: it would cut every event stream after a fixed
		// time. Streams bound each write instead (stream.Config).
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    cfg.Security.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ConnState: func(c net.Conn, state http.ConnState) {
			if state == http.StateNew {
				watchPeer(c, s.peerTimeout())
			}
		},
	}
	// Shutdown waits for connections to go idle, which an open stream never
	// does: end the streams first (Run does; this covers a Shutdown called
	// any other way).
	s.http.RegisterOnShutdown(hub.Shutdown)
	return s, nil
}

// peerTimeout is how long sent data may stay unacknowledged before the
// kernel drops the connection: the stream write timeout, so that a
// vanished peer is freed within about heartbeat + write timeout.
func (s *Server) peerTimeout() time.Duration {
	if s.cfg.StreamWriteTimeout > 0 {
		return s.cfg.StreamWriteTimeout
	}
	return 10 * time.Second
}

// Open listens on the configured address, so that bind errors surface
// before Run and tests can learn the port of ":0". Its connections answer
// the header errors net/http answers by itself with problems too (see
// problemConn).
func (s *Server) Open() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("server: listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln = problemListener{Listener: ln, maxHeaderBytes: s.cfg.Security.MaxHeaderBytes}
	return nil
}

// Addr is the address the server listens on, after Open.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Stats reports the event hub's counters.
func (s *Server) Stats() stream.Stats { return s.hub.Stats() }

// Run serves until ctx ends, then shuts down gracefully: streams end (their
// clients reconnect elsewhere and resume), in-flight requests get
// ShutdownTimeout to finish, and the hub stops. The caller closes the store
// afterwards.
func (s *Server) Run(ctx context.Context) error {
	if s.ln == nil {
		if err := s.Open(); err != nil {
			return err
		}
	}
	hubCtx, stopHub := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = s.hub.Run(hubCtx)
	}()
	defer func() {
		stopHub()
		wg.Wait()
	}()

	serveErr := make(chan error, 1)
	go func() { serveErr <- s.http.Serve(s.ln) }()
	s.log.Info("pinion listening", "addr", s.Addr())

	select {
	case err := <-serveErr:
		return fmt.Errorf("server: serve: %w", err)
	case <-ctx.Done():
	}
	// Draining: /readyz fails first, so a load balancer stops sending;
	// after DrainDelay streams end cleanly (their clients reconnect
	// elsewhere and resume) and new stream requests are told to retry;
	// then the listener closes and in-flight requests finish.
	s.stopping.Store(true)
	s.log.Info("pinion draining", "delay", s.cfg.DrainDelay)
	if s.cfg.DrainDelay > 0 {
		t := time.NewTimer(s.cfg.DrainDelay)
		select {
		case <-t.C:
		case err := <-serveErr:
			t.Stop()
			return fmt.Errorf("server: serve: %w", err)
		}
	}
	s.hub.Shutdown()
	// A fresh context: ctx is already done, and the in-flight requests
	// deserve their full allowance.
	shutCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := s.http.Shutdown(shutCtx)
	if e := <-serveErr; !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	if err != nil {
		return fmt.Errorf("server: shutdown: %w", err)
	}
	s.log.Info("pinion stopped")
	return nil
}

// readiness is what /readyz checks: the store answers and the server is
// not shutting down.
type readiness struct {
	st       Store
	stopping *atomic.Bool
}

var errStopping = errors.New("server: shutting down")

func (r readiness) Ping(ctx context.Context) error {
	if r.stopping.Load() {
		return errStopping
	}
	return r.st.Ping(ctx)
}
