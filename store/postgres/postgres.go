// Package postgres is the store.Backend for several Pinion instances
// sharing one PostgreSQL database, through github.com/jackc/pgx/v5.
//
// # Revisions and commit order
//
// Every write transaction allocates its revisions from the single row of
// pinion_meta, which it locks (SELECT ... FOR UPDATE) before it reads the
// documents it changes, and keeps locked until it commits. So:
//
//   - writes are serialised across all instances, and an UpdateFunc's
//     read-modify-write is atomic;
//   - a transaction that allocates after another has to wait for that one
//     to end, and then reads its head: revisions grow in commit order;
//   - PostgreSQL makes a transaction visible before it releases its locks,
//     so when a reader sees revision r committed, every transaction that
//     allocated a revision below r has already ended (committed, or rolled
//     back together with its allocation).
//
// Hence no change can ever commit with a revision below one that any
// instance has already read: "the documents changed after cursor C" is the
// same exact answer on every instance, at any time. The argument is written
// out in docs/protocol.md; the test TestCursorOrderAcrossInstances
// interleaves transactions of two instances to check it.
//
// # Group commit
//
// An instance funnels its Updates through one committer goroutine, which
// takes every write that queued while the previous transaction committed
// and runs them in one transaction of two pipelined round trips: lock the
// head and read the documents, then write them, advance the head, NOTIFY,
// and COMMIT. Each write's UpdateFunc sees the writes before it in the
// batch; one whose UpdateFunc fails is left out, and no other write is
// affected. Each Update returns only after the batch's commit is durable.
//
// # Fan-out
//
// The NOTIFY is part of the write transaction, so PostgreSQL delivers it
// exactly when the change becomes visible, and never for a write that
// rolled back. Each instance keeps one LISTEN connection, which advances the
// head that Wait watches; the instance's stream hub then reads the changes
// themselves with Since. When that connection is lost, the instance
// reconnects, LISTENs again, and only then reads the head, so a change
// committed while it was away is found by cursor, not lost.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pinionkit/pinion/store"
	"github.com/pinionkit/pinion/store/internal/sqlrows"
)

// Defaults of the options.
const (
	// DefaultMaxBatch bounds how many writes share one transaction.
	DefaultMaxBatch = 256
	// DefaultStatementTimeout bounds each database call, so that a
	// database that stopped answering fails requests with a clear error
	// instead of holding them.
	DefaultStatementTimeout = 10 * time.Second
	// listenCheck is how long the LISTEN connection may stay silent before
	// it is checked with a query: a connection cut without a reset would
	// otherwise be noticed only when TCP gives up.
	listenCheck = 5 * time.Second
	// maxBackoff caps the wait between two attempts to reconnect LISTEN.
	maxBackoff = 2 * time.Second
)

// Store is a store.Backend in a PostgreSQL schema (the first of the
// connection's search_path). Several Stores, in one process or many, may
// share one schema. It is safe for concurrent use.
type Store struct {
	pool     *pgxpool.Pool
	connCfg  *pgx.ConnConfig // for the LISTEN connection
	info     store.Info
	schema   string
	channel  string
	now      func() time.Time
	log      *slog.Logger
	maxBatch int
	timeout  time.Duration
	observe  func(writes int, took time.Duration) // nil: no one is watching

	head      *store.Head
	listening atomic.Bool // the LISTEN connection is up

	reqs chan *request // to the committer; unbuffered
	quit chan struct{} // closed by Close
	stop context.CancelFunc
	wg   sync.WaitGroup // the committer and the listener

	mu     sync.Mutex // guards closed
	closed bool
}

var _ store.Backend = (*Store)(nil)

// Option configures a Store.
type Option func(*Store)

// WithClock makes the store read the time from now instead of time.Now, so
// that tests can move the clock, backwards included.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithLogger sets where the store reports losing and regaining its LISTEN
// connection. The default discards.
func WithLogger(log *slog.Logger) Option { return func(s *Store) { s.log = log } }

// WithCommitObserver has the store report each commit (batch size and
// duration) to fn, which runs on the committer and must be quick: it is
// how metrics see group commit without the store importing them.
func WithCommitObserver(fn func(writes int, took time.Duration)) Option {
	return func(s *Store) { s.observe = fn }
}

// WithMaxBatch bounds how many writes share one transaction (default
// DefaultMaxBatch; 1 turns group commit off).
func WithMaxBatch(n int) Option {
	return func(s *Store) {
		if n > 0 {
			s.maxBatch = n
		}
	}
}

// WithStatementTimeout bounds each database call (default
// DefaultStatementTimeout).
func WithStatementTimeout(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.timeout = d
		}
	}
}

// Open connects to the database at url (a postgres:// URL or a key=value
// connection string, as libpq and pgx take them), applies the embedded
// migrations, and starts listening for other instances' changes. The
// store's tables live in the connection's current schema; a search_path
// parameter in url chooses another.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The error may quote the URL, password included; say only why.
		return nil, errors.New("postgres: the database URL is not valid")
	}
	s := &Store{
		now:      time.Now,
		log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		maxBatch: DefaultMaxBatch,
		timeout:  DefaultStatementTimeout,
		reqs:     make(chan *request),
		quit:     make(chan struct{}),
		connCfg:  cfg.ConnConfig.Copy(),
	}
	for _, opt := range opts {
		opt(s)
	}
	// Named, so that an operator can tell Pinion's connections apart in
	// pg_stat_activity (and the tests can find the LISTEN connection).
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "pinion"
	}
	where := cfg.ConnConfig.Host + ":" + strconv.Itoa(int(cfg.ConnConfig.Port)) + "/" + cfg.ConnConfig.Database
	if s.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("postgres: open %s: %w", where, err)
	}
	if err := s.init(ctx); err != nil {
		s.pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", where, err)
	}

	// The goroutines live until Close; their context is not the caller's,
	// which may end as soon as Open returns.
	life, stop := context.WithCancel(context.Background())
	s.stop = stop
	first := make(chan error, 1)
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		s.listen(life, first)
	}()
	go func() {
		defer s.wg.Done()
		s.commitLoop()
	}()
	// Open returns once the instance hears other instances' commits, so
	// that a stream served right after it misses nothing live.
	select {
	case err = <-first:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("postgres: open %s: listen: %w", where, err)
	}
	return s, nil
}

// init applies the migrations and reads the store's identity.
func (s *Store) init(ctx context.Context) error {
	if err := migrate(ctx, s.pool, s.now()); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var initial, head int64
	if err := s.pool.QueryRow(ctx, "SELECT epoch, initial, head, current_schema() FROM pinion_meta WHERE id = 1").
		Scan(&s.info.Epoch, &initial, &head, &s.schema); err != nil {
		return fmt.Errorf("read identity: %w", err)
	}
	s.info.Initial = store.Revision(initial)
	s.head = store.NewHead(store.Revision(head))
	s.channel = channelName(s.schema)
	s.connCfg.RuntimeParams["application_name"] = "pinion listen " + s.schema
	return nil
}

// Info returns the store's identity, which belongs to the database: every
// instance on one schema has the same.
func (s *Store) Info() store.Info { return s.info }

// Schema is the PostgreSQL schema the store's tables are in.
func (s *Store) Schema() string { return s.schema }

const getDocQuery = "SELECT revision, data, source_id, committed_us FROM pinion_documents WHERE topic = $1 AND principal = $2"

// Get returns the key's current document.
func (s *Store) Get(ctx context.Context, key store.Key) (store.Document, error) {
	if err := s.check(ctx); err != nil {
		return store.Document{}, fmt.Errorf("postgres: get %s: %w", key, err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	doc := store.Document{Key: key, Revision: s.info.Initial}
	var rev, committed int64
	err := s.pool.QueryRow(ctx, getDocQuery, key.Topic, key.Principal).Scan(&rev, &doc.Data, &doc.SourceID, &committed)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return doc, nil
	case err != nil:
		return store.Document{}, s.fail(ctx, "get "+key.String(), err)
	}
	doc.Revision, doc.Time = store.Revision(rev), time.UnixMicro(committed)
	return doc, nil
}

// headsQuery reads the head and the given keys' changes in one statement,
// hence in one snapshot. The head comes first, as the row with no topic.
const headsQuery = `SELECT NULL::text, NULL::text, head, NULL::text, NULL::bigint FROM pinion_meta WHERE id = 1
	UNION ALL
	SELECT d.topic, d.principal, d.revision, d.source_id, d.committed_us
	FROM pinion_documents d JOIN (SELECT DISTINCT * FROM unnest($1::text[], $2::text[])) AS k (topic, principal)
		ON d.topic = k.topic AND d.principal = k.principal`

// Heads returns the last change of each written key among keys, and the
// head revision, from one snapshot.
func (s *Store) Heads(ctx context.Context, keys []store.Key) ([]store.Change, store.Revision, error) {
	if err := s.check(ctx); err != nil {
		return nil, 0, fmt.Errorf("postgres: heads: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	topics, principals := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		topics[i], principals[i] = k.Topic, k.Principal
	}
	rows, err := s.pool.Query(ctx, headsQuery, topics, principals)
	if err != nil {
		return nil, 0, s.fail(ctx, "heads", err)
	}
	defer rows.Close()
	var (
		changes []store.Change
		head    store.Revision
		found   bool
	)
	for rows.Next() {
		var (
			topic, principal, source *string
			rev                      int64
			committed                *int64
		)
		if err := rows.Scan(&topic, &principal, &rev, &source, &committed); err != nil {
			return nil, 0, s.fail(ctx, "heads", err)
		}
		if topic == nil {
			head, found = store.Revision(rev), true
			continue
		}
		changes = append(changes, store.Change{
			Key:      store.Key{Topic: *topic, Principal: *principal},
			Revision: store.Revision(rev), SourceID: *source, Time: time.UnixMicro(*committed),
		})
	}
	if err := rows.Err(); err != nil {
		return nil, 0, s.fail(ctx, "heads", err)
	}
	if !found {
		return nil, 0, fmt.Errorf("postgres: heads: the identity row of schema %q is missing", s.schema)
	}
	s.head.Advance(head) // what was read is committed; Wait may know it
	return changes, head, nil
}

// Since returns up to limit changes after the given revision, in revision
// order.
func (s *Store) Since(ctx context.Context, after store.Revision, limit int) ([]store.Change, error) {
	if err := s.check(ctx); err != nil {
		return nil, fmt.Errorf("postgres: since %d: %w", after, err)
	}
	// No stored revision exceeds MaxInt64 (see the schema).
	if limit <= 0 || after >= math.MaxInt64 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT topic, principal, revision, source_id, committed_us
		FROM pinion_documents WHERE revision > $1 ORDER BY revision LIMIT $2`, int64(after), limit)
	if err != nil {
		return nil, s.fail(ctx, fmt.Sprintf("since %d", after), err)
	}
	defer rows.Close()
	changes, err := sqlrows.Changes(rows)
	if err != nil {
		return nil, s.fail(ctx, fmt.Sprintf("since %d", after), err)
	}
	return changes, nil
}

// Wait blocks until the head revision is greater than after, ctx ends, or
// the store is closed. It hears every instance's commits, through LISTEN.
func (s *Store) Wait(ctx context.Context, after store.Revision) error {
	err := s.head.Wait(ctx, after)
	if err != nil && !errors.Is(err, store.ErrClosed) {
		return fmt.Errorf("postgres: wait: %w", err)
	}
	return err
}

// Ping reports whether the store can serve requests: the database answers
// and this instance is listening for other instances' changes.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.check(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var head int64
	if err := s.pool.QueryRow(ctx, "SELECT head FROM pinion_meta WHERE id = 1").Scan(&head); err != nil {
		return s.fail(ctx, "ping", err)
	}
	if !s.listening.Load() {
		return fmt.Errorf("postgres: ping: %w: the LISTEN connection is down (reconnecting)", store.ErrUnavailable)
	}
	return nil
}

// Close waits for the running batch of writes, fails the queued ones with
// store.ErrClosed, and closes the connections. Later calls return
// store.ErrClosed; Close itself may be called again.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.quit)
	if s.stop != nil {
		s.stop()
	}
	s.wg.Wait()
	s.head.Close()
	s.pool.Close()
	return nil
}

// check returns why a call cannot start: the store is closed or ctx ended.
func (s *Store) check(ctx context.Context) error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return store.ErrClosed
	}
	return ctx.Err()
}

// fail wraps the error of a failed step. A call that raced with Close
// reports store.ErrClosed; one that failed because the database could not
// be reached reports store.ErrUnavailable.
func (s *Store) fail(ctx context.Context, step string, err error) error {
	if cerr := s.check(ctx); cerr != nil && !errors.Is(err, cerr) {
		err = errors.Join(cerr, err)
	}
	if unavailable(err) {
		return fmt.Errorf("postgres: %s: %w: %w", step, store.ErrUnavailable, err)
	}
	return fmt.Errorf("postgres: %s: %w", step, err)
}

// unavailable tells a database that cannot be reached (down, restarting,
// out of connections, a connection cut) from an error of the statement
// itself, which retrying would not cure.
func unavailable(err error) bool {
	if errors.Is(err, store.ErrClosed) || errors.Is(err, context.Canceled) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code[:2] {
		case "08", // connection exception
			"53", // insufficient resources (too many connections)
			"57", // operator intervention: shutdown, cannot connect now
			"58": // system error
			return true
		}
		return false
	}
	var netErr net.Error
	var connErr *pgconn.ConnectError
	return errors.As(err, &connErr) || errors.As(err, &netErr) || pgconn.SafeToRetry(err) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		pgconn.Timeout(err)
}

// panicError is what Update returns when its UpdateFunc panicked on the
// committer goroutine, where the panic would otherwise end the process.
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string {
	return fmt.Sprintf("update function panicked: %v\n%s", p.value, p.stack)
}

// callFn runs fn, turning a panic into an error for its own caller only.
func callFn(fn store.UpdateFunc, cur store.Document) (data []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			data, err = nil, &panicError{value: v, stack: debug.Stack()}
		}
	}()
	return fn(cur)
}

// SharedSecret returns the secret called name that every instance on this
// database shares, creating it with create on first use. Concurrent first
// uses agree on one value: the first insert wins, and everyone reads it.
func (s *Store) SharedSecret(ctx context.Context, name string, create func() []byte) ([]byte, error) {
	if err := s.check(ctx); err != nil {
		return nil, fmt.Errorf("postgres: secret %s: %w", name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	// Two statements, not one: when another instance inserts the same
	// name at the same moment, the INSERT waits for it and does nothing,
	// and a SELECT in the same statement would still read the snapshot
	// taken before that insert committed and find no row (instances
	// starting together failed this way). The separate SELECT takes a new
	// snapshot, which holds the winner's value.
	if _, err := s.pool.Exec(ctx, `INSERT INTO pinion_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, create()); err != nil {
		return nil, s.fail(ctx, "secret "+name, err)
	}
	var value []byte
	if err := s.pool.QueryRow(ctx, `SELECT value FROM pinion_secrets WHERE name = $1`, name).Scan(&value); err != nil {
		return nil, s.fail(ctx, "secret "+name, err)
	}
	return value, nil
}
