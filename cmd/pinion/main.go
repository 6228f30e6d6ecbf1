// Command pinion runs the Pinion server with its demo topics on the
// embedded store, or, with -database-url, on a PostgreSQL database that
// several instances share.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pinionkit/pinion/auth"
	"github.com/pinionkit/pinion/demo"
	"github.com/pinionkit/pinion/metrics"
	"github.com/pinionkit/pinion/openapi"
	"github.com/pinionkit/pinion/server"
	"github.com/pinionkit/pinion/store"
	"github.com/pinionkit/pinion/store/cache"
	"github.com/pinionkit/pinion/store/postgres"
	"github.com/pinionkit/pinion/store/sqlite"
	"github.com/pinionkit/pinion/topic"
	"github.com/pinionkit/pinion/web"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "pinion:", err)
		os.Exit(1)
	}
}

// options are the command's settings; each flag falls back to an
// environment variable, then to a default.
type options struct {
	addr      string
	dataDir   string
	dbURL     string
	dbTimeout time.Duration
	dbBatch   int
	origins   string
	heartbeat time.Duration
	logLevel  string
	secure    bool
	noApp     bool
	limits    limits
	identity  identity
	adminAddr string
	// freshness turns on the browser freshness reports (needs adminAddr).
	freshness           bool
	freshnessMaxSamples int
	freshnessRate       float64

	maxStreams, maxPerPrincipal, maxPerAddress int
	drainDelay                                 time.Duration
	// cacheBytes bounds the snapshot cache (store/cache); 0 turns it off.
	cacheBytes int64
}

func parse(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet("pinion", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.addr, "addr", env("PINION_ADDR", "127.0.0.1:8080"), "listen address (env PINION_ADDR)")
	fs.StringVar(&o.dataDir, "data", env("PINION_DATA", "data"), "data directory of the embedded store (env PINION_DATA)")
	fs.StringVar(&o.dbURL, "database-url", env("PINION_DATABASE_URL", ""), "PostgreSQL URL shared by several instances, e.g. postgres://user@host/db; empty: the embedded store in -data (env PINION_DATABASE_URL)")
	dbt, err := time.ParseDuration(env("PINION_DATABASE_TIMEOUT", postgres.DefaultStatementTimeout.String()))
	if err != nil {
		return o, fmt.Errorf("PINION_DATABASE_TIMEOUT: %w", err)
	}
	fs.DurationVar(&o.dbTimeout, "database-timeout", dbt, "with -database-url: bound on each database call; past it the request fails with 503 (env PINION_DATABASE_TIMEOUT)")
	dbb, err := strconv.Atoi(env("PINION_DATABASE_MAX_BATCH", strconv.Itoa(postgres.DefaultMaxBatch)))
	if err != nil {
		return o, fmt.Errorf("PINION_DATABASE_MAX_BATCH: %w", err)
	}
	fs.IntVar(&o.dbBatch, "database-max-batch", dbb, "with -database-url: most writes committed in one transaction; 1 turns group commit off (env PINION_DATABASE_MAX_BATCH)")
	fs.StringVar(&o.origins, "cors-origins", env("PINION_CORS_ORIGINS", ""), "comma-separated origins allowed to call the API with credentials (env PINION_CORS_ORIGINS)")
	hb, err := time.ParseDuration(env("PINION_HEARTBEAT", "15s"))
	if err != nil {
		return o, fmt.Errorf("PINION_HEARTBEAT: %w", err)
	}
	fs.DurationVar(&o.heartbeat, "heartbeat", hb, "event stream heartbeat interval (env PINION_HEARTBEAT)")
	fs.StringVar(&o.logLevel, "log-level", env("PINION_LOG_LEVEL", "info"), "debug, info, warn or error (env PINION_LOG_LEVEL)")
	ef := &envFlags{fs: fs, getenv: getenv}
	ef.Bool(&o.secure, "secure-cookies", "PINION_SECURE_COOKIES", false, "mark the session cookie Secure, for HTTPS")
	fs.BoolVar(&o.noApp, "no-app", false, "do not serve the demo app at /")
	o.limits.bind(ef)
	o.identity.bind(ef)
	ef.Int(&o.maxStreams, "max-streams", "PINION_MAX_STREAMS", defaultMaxStreams(), "open event streams in this process, 0 = no limit; default: the open-file limit minus headroom")
	ef.Int(&o.maxPerPrincipal, "max-streams-per-principal", "PINION_MAX_STREAMS_PER_PRINCIPAL", 64, "open event streams per principal, 0 = no limit")
	ef.Int(&o.maxPerAddress, "max-streams-per-address", "PINION_MAX_STREAMS_PER_ADDRESS", 0, "open event streams per client address, 0 = no limit (behind a proxy all clients share its address)")
	ef.Duration(&o.drainDelay, "drain-delay", "PINION_DRAIN_DELAY", 0, "on shutdown, how long /readyz fails before streams end and the listener closes")
	ef.Int64(&o.cacheBytes, "cache-bytes", "PINION_CACHE_BYTES", 64<<20,
		"memory for the snapshot cache of current revisions and hot documents; 0 = off")
	fs.StringVar(&o.adminAddr, "admin-addr", env("PINION_ADMIN_ADDR", ""), "admin listen address for /metrics and /debug/pprof; empty: off (env PINION_ADMIN_ADDR)")
	ef.Bool(&o.freshness, "client-freshness", "PINION_CLIENT_FRESHNESS", false,
		"accept sampled browser freshness reports at POST /api/freshness and export pinion_client_freshness_seconds; needs -admin-addr")
	ef.Int(&o.freshnessMaxSamples, "freshness-max-samples", "PINION_FRESHNESS_MAX_SAMPLES", 20,
		"samples in one freshness report (its body limit is 64 + 256 bytes per sample)")
	ef.Float(&o.freshnessRate, "freshness-rate", "PINION_FRESHNESS_RATE", 1,
		"freshness reports per second per principal, in bursts of twice as many; 0 = no limit of its own")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if err := errors.Join(ef.errs...); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if o.dbTimeout <= 0 {
		return o, fmt.Errorf("-database-timeout %v: must be positive", o.dbTimeout)
	}
	if o.dbBatch < 1 {
		return o, fmt.Errorf("-database-max-batch %d: must be at least 1", o.dbBatch)
	}
	if o.freshness && o.adminAddr == "" {
		return o, errors.New("-client-freshness needs -admin-addr: the reports become a metric, and metrics are served only there")
	}
	if o.freshnessMaxSamples < 1 {
		return o, fmt.Errorf("-freshness-max-samples %d: must be at least 1", o.freshnessMaxSamples)
	}
	return o, nil
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "token" {
		return mintToken(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "openapi" {
		return writeOpenAPI(args[1:], stdout)
	}
	o, err := parse(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return fmt.Errorf("log level %q: %w", o.logLevel, err)
	}
	log := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: level}))

	if strings.TrimSpace(o.dataDir) == "" {
		return errors.New("the data directory is empty: write -data ./data (or PINION_DATA=/var/lib/pinion)")
	}
	topics, err := topic.NewSet(demo.Topics(),
		topic.WithJSONLimits(o.limits.maxJSONDepth, o.limits.maxJSONMembers),
	)
	if err != nil {
		return fmt.Errorf("demo topics: %w", err)
	}
	// Metrics exist only when the admin listener does: off by default,
	// and then nothing is measured at all.
	var m *metrics.Metrics
	if o.adminAddr != "" {
		m = metrics.New()
	}
	st, where, err := openStore(ctx, o, log, m)
	if err != nil {
		return err
	}
	// Snapshot reads are served from memory when nothing changed; the
	// cache follows the store's change feed, and the event stream reads
	// the feed through it, so it is updated before an invalidation goes
	// out.
	cached, err := cache.New(ctx, st, o.cacheBytes)
	if err != nil {
		st.Close()
		return err
	}
	defer func() {
		if err := cached.Close(); err != nil {
			log.Error("closing store", "err", err)
		}
	}()

	cfg := server.Config{
		Addr:                   o.addr,
		Heartbeat:              o.heartbeat,
		Security:               o.limits.security(),
		MaxStreams:             o.maxStreams,
		MaxStreamsPerPrincipal: o.maxPerPrincipal,
		MaxStreamsPerAddress:   o.maxPerAddress,
		DrainDelay:             o.drainDelay,
	}
	if o.origins != "" {
		for _, origin := range strings.Split(o.origins, ",") {
			cfg.AllowedOrigins = append(cfg.AllowedOrigins, strings.TrimSpace(origin))
		}
	}
	if !o.noApp {
		cfg.Assets = web.Dist()
	}
	var backend store.Backend = cached
	if m != nil {
		backend = m.Store(cached)
		cfg.StreamObserver = m
		cfg.Middleware = m.Middleware(func(name string) bool { _, ok := topics.Lookup(name); return ok })
		if o.freshness {
			cfg.Freshness = server.Freshness{Recorder: m, MaxSamples: o.freshnessMaxSamples, RatePerPrincipal: o.freshnessRate}
		}
	}
	who, err := o.identity.authenticator(ctx, o, st)
	if err != nil {
		return err
	}
	if o.identity.mode == "jwt" {
		cfg.Security.Policies = demo.Policies()
	}
	srv, err := server.New(cfg, backend, topics, who, log)
	if err != nil {
		return err
	}
	if err := srv.Open(); err != nil {
		return err
	}
	log.Info("store open", "store", where, "epoch", st.Info().Epoch)
	log.Info("event stream limits", "max_streams", o.maxStreams, "per_principal", o.maxPerPrincipal, "per_address", o.maxPerAddress)
	if m != nil {
		m.WatchStreams(func() int { return srv.Stats().Streams })
		admin, err := metrics.Listen(o.adminAddr, m.Handler(), log)
		if err != nil {
			return err
		}
		adminCtx, stopAdmin := context.WithCancel(context.Background())
		adminErr := make(chan error, 1)
		go func() { adminErr <- admin.Run(adminCtx) }()
		// The admin listener outlives the public one's drain, so a
		// shutdown can be watched to its end.
		defer func() {
			stopAdmin()
			if err := <-adminErr; err != nil {
				log.Error("admin listener", "err", err)
			}
		}()
	}
	return srv.Run(ctx)
}

// openStore opens the store the options select: PostgreSQL when a
// database URL is given, the embedded store otherwise. where describes it
// for the log, without the URL's password.
func openStore(ctx context.Context, o options, log *slog.Logger, m *metrics.Metrics) (st store.Backend, where string, err error) {
	if o.dbURL == "" {
		var opts []sqlite.Option
		if m != nil {
			opts = append(opts, sqlite.WithCommitObserver(m.Committed))
		}
		s, err := sqlite.Open(ctx, o.dataDir, opts...)
		return s, "sqlite:" + o.dataDir, err
	}
	opts := []postgres.Option{postgres.WithLogger(log),
		postgres.WithStatementTimeout(o.dbTimeout), postgres.WithMaxBatch(o.dbBatch)}
	if m != nil {
		opts = append(opts, postgres.WithCommitObserver(m.Committed))
	}
	s, err := postgres.Open(ctx, o.dbURL, opts...)
	if err != nil {
		return nil, "", err
	}
	return s, "postgres schema " + s.Schema(), nil
}

// sessionKey loads the key that signs session cookies: from
// -session-key-file if given; else, on PostgreSQL, from the database, so
// that every instance shares it; else from the data directory.
func sessionKey(ctx context.Context, o options, st store.Backend) ([]byte, error) {
	if o.limits.sessionKeyFile == "" {
		if pg, ok := st.(*postgres.Store); ok {
			return pg.SharedSecret(ctx, "session-key", auth.NewKey)
		}
	}
	keyFile := o.limits.sessionKeyFile
	if keyFile == "" {
		keyFile = filepath.Join(o.dataDir, "session.key")
	}
	return auth.LoadOrCreateKey(keyFile)
}

// writeOpenAPI writes the OpenAPI document of the demo topics, the one the
// server serves at openapi.Path: `pinion openapi > openapi.yaml`.
func writeOpenAPI(args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("openapi: unexpected arguments: %s", strings.Join(args, " "))
	}
	topics, err := topic.NewSet(demo.Topics())
	if err != nil {
		return fmt.Errorf("demo topics: %w", err)
	}
	doc, err := server.OpenAPI(topics, openapi.Options{})
	if err != nil {
		return err
	}
	_, err = stdout.Write(doc)
	return err
}

// defaultMaxStreams is the open-file limit (which the Go runtime has
// already raised to its hard limit) minus headroom for the listener, the
// store's files and requests that are not streams: every stream holds one
// descriptor, and a process out of descriptors fails its writes too.
func defaultMaxStreams() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur == 0 {
		return 900
	}
	n := lim.Cur
	if n > 1<<30 {
		n = 1 << 30
	}
	headroom := uint64(100)
	if n < 400 {
		headroom = n / 4
	}
	return int(n - headroom)
}
