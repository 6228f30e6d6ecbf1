// Package sqlite is Pinion's default store.Backend: an embedded, durable
// store in one SQLite file, through the pure-Go modernc.org/sqlite driver.
//
// A commit is on disk before Update returns (WAL journal with
// synchronous=FULL), so an acknowledged write survives a crash of the
// process or the machine. Concurrent Updates share one transaction and one
// fsync (group commit, see Store.commitLoop), which is what lets many
// writers go faster than one fsync at a time.
//
// One process owns the directory, and Open enforces it with an exclusive
// flock on a lock file: the store learns of new commits from its own
// Updates only, so a second process would write behind its back. Sharing
// one database between instances is the job of a server database backend,
// which learns of other instances' changes from the database itself.
package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	sqlitedriver "modernc.org/sqlite"

	"github.com/pinionkit/pinion/store"
	"github.com/pinionkit/pinion/store/internal/sqlrows"
)

// fileName is the name of the database file Open keeps in its directory.
const fileName = "pinion.db"

// schemaVersion is the PRAGMA user_version this build writes and reads. A
// later schema change bumps it and adds its migration to initSchema; a
// file with a higher version comes from a newer build and is refused rather
// than misread.
const schemaVersion = 1

// schema creates version 1.
//
// Revisions are stored as INTEGER, which SQLite keeps as a signed 64-bit
// number. A Revision is an unsigned 64-bit number, but the store issues
// microsecond timestamps (about 2^51 today, 2^63 in the year 294247), so
// every revision it can issue fits; Update refuses one that would not.
var schema = []string{
	`CREATE TABLE IF NOT EXISTS meta (
		id      INTEGER PRIMARY KEY CHECK (id = 1),
		epoch   TEXT    NOT NULL,
		initial INTEGER NOT NULL CHECK (initial > 0),
		head    INTEGER NOT NULL CHECK (head >= initial)
	) STRICT`,
	`CREATE TABLE IF NOT EXISTS documents (
		topic        TEXT    NOT NULL,
		principal    TEXT    NOT NULL,
		revision     INTEGER NOT NULL CHECK (revision > 0),
		data         BLOB    NOT NULL,
		source_id    TEXT    NOT NULL,
		committed_us INTEGER NOT NULL,
		PRIMARY KEY (topic, principal)
	) STRICT`,
	// Revisions are unique store-wide; the index serves Since.
	`CREATE UNIQUE INDEX IF NOT EXISTS documents_revision ON documents (revision)`,
	// Ping rewrites this one row (probePad bytes) in a commit of its own,
	// so that readiness fails when the disk has no room for a write.
	`CREATE TABLE IF NOT EXISTS probe (
		id  INTEGER PRIMARY KEY CHECK (id = 1),
		pad BLOB    NOT NULL
	) STRICT`,
}

// probePad is what a readiness probe writes: more than most documents,
// so that a disk too full for ordinary writes fails the probe too (a
// one-page probe can still fit in log space a failed write left behind).
const probePad = 64 << 10

// Store is a store.Backend kept in one SQLite file. It is safe for
// concurrent use.
type Store struct {
	dir  string
	info store.Info
	now  func() time.Time

	// lock is the open lock file whose flock marks the directory as ours
	// (nil where flock does not exist); closing it releases the lock.
	lock *os.File

	// writer holds the single connection writes go through, and wconn is
	// that connection, held for good by the committer goroutine: its
	// transactions begin IMMEDIATE, taking SQLite's write lock up front,
	// and its statements stay prepared on it (w).
	writer *sql.DB
	wconn  *sql.Conn
	w      writeStmts
	// reader is the pool Get, Heads and Since read through. Under WAL,
	// readers see the last commit and never wait for the writer. Their
	// hot statements are prepared once (r): preparing costs about as much
	// as running them.
	reader *sql.DB
	r      readStmts

	// queue carries Updates to the committer, which commits whatever has
	// queued up in one transaction and one fsync (group commit). Senders
	// hold mu's read lock while they send, so once Close has set closed
	// under the write lock nothing more arrives, and the committer can
	// finish what is queued before it stops.
	queue   chan *request
	stop    chan struct{} // closed by Close: commit what is queued, then return
	stopped chan struct{} // closed by the committer when it has returned

	head *store.Head // this process's view of the head, for Wait

	commits atomic.Int64 // transactions committed by the committer, for tests
	// observe, when set, is told of each commit: how many writes it made
	// durable and how long the transaction took, fsync included.
	observe func(writes int, took time.Duration)

	mu     sync.RWMutex // guards closed; read-held around sends on queue
	closed bool
}

// writeStmts are the committer's statements, prepared on its connection.
type writeStmts struct {
	begin, commit, rollback, readHead, getDoc, upsert, writeHead, probe *sql.Stmt
}

// readStmts are the reader pool's hot statements. database/sql keeps one
// prepared copy per pooled connection, and reuses it inside a read
// transaction through Tx.Stmt.
type readStmts struct {
	getDoc, readHead, heads, since *sql.Stmt
}

// request is one Update waiting for the committer.
type request struct {
	ctx      context.Context // the caller's: checked before fn runs
	key      store.Key
	sourceID string
	fn       store.UpdateFunc
	done     chan result // buffered: the committer never waits on a caller
	probe    bool        // Ping's: writes nothing of its own, but forces a commit
}

type result struct {
	doc store.Document
	err error
}

// maxBatch bounds how many Updates one transaction commits, so that one
// commit's work, and the wait of its first writer, stay short. Beyond
// that size the fsync is shared by enough writes that bigger batches gain
// nothing.
const maxBatch = 256

var _ store.Backend = (*Store)(nil)

// Option configures a Store.
type Option func(*Store)

// WithClock makes the store read the time from now instead of time.Now, so
// that tests can move the clock, backwards included.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// WithCommitObserver has the store report each commit (batch size and
// duration) to fn, which runs on the committer and must be quick: it is
// how metrics see group commit without the store importing them.
func WithCommitObserver(fn func(writes int, took time.Duration)) Option {
	return func(s *Store) { s.observe = fn }
}

// Open opens the store kept in dir, creating dir (mode 0700: documents may
// be private to a principal) and the database file in it if needed. The
// store's identity and head are created with the file and kept for its
// whole life. It fails, naming the holder, when another process (or
// another open Store) has the directory.
func Open(ctx context.Context, dir string, opts ...Option) (_ *Store, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", dir, err)
	}
	s := &Store{
		dir:     abs,
		now:     time.Now,
		queue:   make(chan *request, maxBatch),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	for _, opt := range opts {
		opt(s)
	}
	if s.lock, err = lockDir(abs); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	// Until the committer runs, a failure releases what was opened.
	var closers []func() error
	defer func() {
		if err != nil {
			for i := len(closers) - 1; i >= 0; i-- {
				closers[i]()
			}
			if s.lock != nil {
				s.lock.Close()
			}
		}
	}()
	path := filepath.Join(abs, fileName)
	wrap := func(err error) error { return fmt.Errorf("sqlite: open %s: %w", path, err) }
	if s.writer, err = openDB(path, true); err != nil {
		return nil, wrap(err)
	}
	closers = append(closers, s.writer.Close)
	// One connection: writes are serialised anyway, and keeping it open
	// keeps its page cache and its prepared statements.
	s.writer.SetMaxOpenConns(1)
	s.writer.SetMaxIdleConns(1)
	s.writer.SetConnMaxLifetime(0)
	s.writer.SetConnMaxIdleTime(0)
	if err := s.initSchema(ctx); err != nil {
		return nil, wrap(err)
	}
	if s.wconn, err = s.writer.Conn(ctx); err != nil {
		return nil, wrap(err)
	}
	closers = append(closers, s.wconn.Close)
	for _, p := range []struct {
		stmt  **sql.Stmt
		query string
	}{
		{&s.w.begin, "BEGIN IMMEDIATE"},
		{&s.w.commit, "COMMIT"},
		{&s.w.rollback, "ROLLBACK"},
		{&s.w.readHead, readHeadQuery},
		{&s.w.getDoc, getDocQuery},
		{&s.w.upsert, upsertQuery},
		{&s.w.writeHead, "UPDATE meta SET head = ? WHERE id = 1"},
		{&s.w.probe, "INSERT INTO probe (id, pad) VALUES (1, randomblob(" + strconv.Itoa(probePad) + ")) ON CONFLICT (id) DO UPDATE SET pad = excluded.pad"},
	} {
		if *p.stmt, err = s.wconn.PrepareContext(ctx, p.query); err != nil {
			return nil, wrap(fmt.Errorf("prepare %q: %w", p.query, err))
		}
	}

	if s.reader, err = openDB(path, false); err != nil {
		return nil, wrap(err)
	}
	closers = append(closers, s.reader.Close)
	// Readers do not wait for each other or for the writer; a few more
	// than the CPUs cover reads that wait on the disk.
	readers := max(4, 2*runtime.GOMAXPROCS(0))
	s.reader.SetMaxOpenConns(readers)
	s.reader.SetMaxIdleConns(readers)
	// Preparing opens a reader connection, so a reader that cannot open
	// the file fails Open rather than the first Get.
	for _, p := range []struct {
		stmt  **sql.Stmt
		query string
	}{
		{&s.r.getDoc, getDocQuery},
		{&s.r.readHead, readHeadQuery},
		{&s.r.heads, headsQuery},
		{&s.r.since, sinceQuery},
	} {
		if *p.stmt, err = s.reader.PrepareContext(ctx, p.query); err != nil {
			return nil, wrap(fmt.Errorf("prepare %q: %w", p.query, err))
		}
	}
	go s.commitLoop()
	return s, nil
}

// openDB opens a pool on the database file at path. The settings travel in
// the DSN, so that every connection the pool opens gets them, not only the
// first. They use the driver's validated shorthand keys rather than raw
// _pragma values: a misspelt PRAGMA is silently ignored by SQLite, which
// would quietly weaken durability, while a misspelt key fails the open.
func openDB(path string, writer bool) (*sql.DB, error) {
	q := url.Values{}
	q.Set("_busy_timeout", "10000") // ms; waits for another process's lock
	q.Set("_journal_mode", "WAL")
	// FULL: the WAL is fsynced at every commit, so Update returns only
	// once the change survives a power loss. NORMAL would not.
	q.Set("_synchronous", "FULL")
	if writer {
		q.Set("_txlock", "immediate")
	} else {
		q.Set("_query_only", "1") // a read path that tries to write is a bug
	}
	// A file: URI with the path escaped, so that no character of the path
	// (a '?', say) can be taken for the start of the parameters.
	dsn := (&url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}).String()
	c, err := sqlitedriver.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(c), nil
}

// initSchema creates the schema and the store's identity in a new file, and
// loads them from an existing one. It runs in one IMMEDIATE transaction, so
// two processes opening a new file at once create it once.
func (s *Store) initSchema(ctx context.Context) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() // after Commit, a no-op

	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	switch {
	case version > schemaVersion:
		return fmt.Errorf("schema version %d is newer than %d, the latest this build of Pinion knows; run a newer build", version, schemaVersion)
	case version == 0:
		for _, stmt := range schema {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("create schema: %w", err)
			}
		}
		var epoch [4]byte
		rand.Read(epoch[:]) // never fails: crypto/rand crashes the program instead
		// The head starts at Initial, so that the first write outranks the
		// never-written state even if the clock goes back after creation.
		initial := max(s.now().UnixMicro(), 0) + 1
		if _, err := tx.ExecContext(ctx, "INSERT INTO meta (id, epoch, initial, head) VALUES (1, ?, ?, ?)",
			hex.EncodeToString(epoch[:]), initial, initial); err != nil {
			return fmt.Errorf("create identity: %w", err)
		}
		// PRAGMA takes no parameters; the version is a constant.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
			return fmt.Errorf("set schema version: %w", err)
		}
	}

	var initial, head int64
	if err := tx.QueryRowContext(ctx, "SELECT epoch, initial, head FROM meta WHERE id = 1").
		Scan(&s.info.Epoch, &initial, &head); err != nil {
		return fmt.Errorf("read identity: %w", err)
	}
	s.info.Initial, s.head = store.Revision(initial), store.NewHead(store.Revision(head))
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit schema: %w", err)
	}
	return nil
}

// Info returns the store's identity.
func (s *Store) Info() store.Info { return s.info }

// The statements of the hot paths, prepared once (see writeStmts and
// readStmts).
const (
	// getDocQuery reads one document; its parameters are the key's topic
	// and principal.
	getDocQuery   = "SELECT revision, data, source_id, committed_us FROM documents WHERE topic = ? AND principal = ?"
	readHeadQuery = "SELECT head FROM meta WHERE id = 1"
	headsQuery    = "SELECT revision, source_id, committed_us FROM documents WHERE topic = ? AND principal = ?"
	upsertQuery   = `INSERT INTO documents (topic, principal, revision, data, source_id, committed_us)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (topic, principal) DO UPDATE SET revision = excluded.revision, data = excluded.data,
			source_id = excluded.source_id, committed_us = excluded.committed_us`
	sinceQuery = `SELECT topic, principal, revision, source_id, committed_us
		FROM documents WHERE revision > ? ORDER BY revision LIMIT ?`
)

// scanDoc reads the key's document from the result of getDocQuery.
func (s *Store) scanDoc(row *sql.Row, key store.Key) (store.Document, error) {
	doc := store.Document{Key: key, Revision: s.info.Initial}
	var rev, committed int64
	err := row.Scan(&rev, &doc.Data, &doc.SourceID, &committed)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return doc, nil
	case err != nil:
		return store.Document{}, err
	}
	doc.Revision, doc.Time = store.Revision(rev), time.UnixMicro(committed)
	return doc, nil
}

// Get returns the key's current document.
func (s *Store) Get(ctx context.Context, key store.Key) (store.Document, error) {
	if err := s.check(ctx); err != nil {
		return store.Document{}, fmt.Errorf("sqlite: get %s: %w", key, err)
	}
	doc, err := s.scanDoc(s.r.getDoc.QueryRowContext(ctx, key.Topic, key.Principal), key)
	if err != nil {
		return store.Document{}, s.fail(ctx, fmt.Sprintf("get %s", key), err)
	}
	return doc, nil
}

// Update commits fn's result as the key's next revision, fsynced before it
// returns. Concurrent Updates are committed together, in one transaction
// and one fsync (see commitLoop); fn runs inside that transaction, on the
// committer goroutine, with every other write excluded and after every
// earlier write of the batch, whose results it sees. It may read the
// store, but must not call Update. The returned document's Data is the
// slice fn returned.
func (s *Store) Update(ctx context.Context, key store.Key, sourceID string, fn store.UpdateFunc) (store.Document, error) {
	req := &request{ctx: ctx, key: key, sourceID: sourceID, fn: fn, done: make(chan result, 1)}
	if err := s.enqueue(ctx, req); err != nil {
		return store.Document{}, fmt.Errorf("sqlite: update %s: %w", key, err)
	}
	// No select on ctx: once queued, the write may be committed, and the
	// caller must learn whether it was. The committer checks ctx before
	// it runs fn, and a batch takes milliseconds.
	res := <-req.done
	return res.doc, res.err
}

// enqueue hands req to the committer, unless the store is closed or ctx
// ended first.
func (s *Store) enqueue(ctx context.Context, req *request) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case s.queue <- req:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// commitLoop is the committer: it takes the first queued Update, then
// every other one already queued (up to maxBatch), and commits them in one
// transaction. Writers that arrive while a commit is being fsynced queue
// up for the next one, so the more writers wait, the more each fsync
// carries. It returns after Close, once the queue is empty.
func (s *Store) commitLoop() {
	defer close(s.stopped)
	batch := make([]*request, 0, maxBatch)
	for {
		select {
		case req := <-s.queue:
			batch = append(batch[:0], req)
		case <-s.stop:
			// Close set closed before closing stop, so the queue is final.
			for {
				select {
				case req := <-s.queue:
					s.commitBatch([]*request{req})
					continue
				default:
				}
				return
			}
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case req := <-s.queue:
				batch = append(batch, req)
			default:
				break fill
			}
		}
		s.commitBatch(batch)
		clear(batch) // drop the references to answered requests
	}
}

// commitBatch runs the batch's writes in one transaction, in queue order,
// and answers each one once the commit is durable. A write whose context
// ended, whose fn fails or returns no data is skipped before it writes
// anything, so it changes nothing and no other write notices it: the
// later writes of the batch see the document as if it had never been
// tried. A failure of the database itself (a statement or the commit)
// fails the whole batch, since nothing of it can be trusted to be on disk.
func (s *Store) commitBatch(batch []*request) {
	// The statements run without a context: they are the committer's,
	// not any one caller's, and a context with no Done channel also spares
	// the driver a watcher goroutine per statement.
	ctx := context.Background()
	results := make([]result, len(batch))
	failAll := func(step string, err error) {
		for i, req := range batch {
			// A write already skipped keeps its own reason.
			if results[i].err == nil {
				results[i] = result{err: fmt.Errorf("sqlite: update %s: %s: %w: %w", req.key, step, store.ErrUnavailable, err)}
			}
		}
	}
	start := time.Now()
	written := s.runBatch(ctx, batch, results, failAll)
	if s.observe != nil && written != 0 {
		n := 0
		for i, req := range batch {
			if results[i].err == nil && !req.probe {
				n++
			}
		}
		s.observe(n, time.Since(start))
	}
	if written != 0 {
		// Only now that the changes are durable may anyone hear of them.
		s.publish(written)
	}
	for i, req := range batch {
		req.done <- results[i]
	}
}

// runBatch fills results and returns the highest committed revision (0 if
// nothing was committed).
func (s *Store) runBatch(ctx context.Context, batch []*request, results []result, failAll func(string, error)) store.Revision {
	if _, err := s.w.begin.ExecContext(ctx); err != nil {
		failAll("begin", err)
		return 0
	}
	rollback := func() {
		// A failed ROLLBACK leaves nothing to do: SQLite has already
		// rolled back a transaction whose statement failed that way.
		s.w.rollback.ExecContext(ctx)
	}
	// The head comes from the file, not from memory: the file is the truth
	// even after a commit that failed in an unclear state.
	var h int64
	if err := s.w.readHead.QueryRowContext(ctx).Scan(&h); err != nil {
		rollback()
		failAll("read head", err)
		return 0
	}
	head := store.Revision(h)
	wrote, probing := false, false
	for i, req := range batch {
		if req.probe {
			probing = true
			continue
		}
		if err := s.check(req.ctx); err != nil && !errors.Is(err, store.ErrClosed) {
			// The caller gave up while queued: nothing was written for it.
			results[i].err = fmt.Errorf("sqlite: update %s: %w", req.key, err)
			continue
		}
		cur, err := s.scanDoc(s.w.getDoc.QueryRowContext(ctx, req.key.Topic, req.key.Principal), req.key)
		if err != nil {
			rollback()
			failAll("read document", err)
			return 0
		}
		data, err := callUpdate(req.fn, cur)
		if err != nil {
			results[i].err = err
			continue
		}
		if len(data) == 0 {
			// A document is a JSON value; nil data would read as never written.
			results[i].err = fmt.Errorf("sqlite: update %s: update function: returned no data", req.key)
			continue
		}
		now := s.now()
		rev := store.NextRevision(head, now)
		if rev > math.MaxInt64 {
			results[i].err = fmt.Errorf("sqlite: update %s: revision %d does not fit in an SQLite INTEGER", req.key, rev)
			continue
		}
		if _, err := s.w.upsert.ExecContext(ctx, req.key.Topic, req.key.Principal, int64(rev), data,
			req.sourceID, now.UnixMicro()); err != nil {
			rollback()
			failAll("write document", err)
			return 0
		}
		head, wrote = rev, true
		results[i].doc = store.Document{Key: req.key, Revision: rev, Data: data, SourceID: req.sourceID,
			Time: time.UnixMicro(now.UnixMicro())}
	}
	if !wrote && !probing {
		// Nothing to make durable: no commit, no fsync.
		rollback()
		return 0
	}
	if _, err := s.w.writeHead.ExecContext(ctx, int64(head)); err != nil {
		rollback()
		failAll("write head", err)
		return 0
	}
	if probing {
		if _, err := s.w.probe.ExecContext(ctx); err != nil {
			rollback()
			failAll("probe", err)
			return 0
		}
	}
	if _, err := s.w.commit.ExecContext(ctx); err != nil {
		rollback()
		failAll("commit", err)
		return 0
	}
	s.commits.Add(1)
	if !wrote {
		return 0 // a probe alone: the head did not move
	}
	return head
}

// callUpdate runs fn, turning a panic into that write's error: fn runs on
// the committer, where a panic would otherwise end the process, and the
// other writes of the batch are not at fault.
func callUpdate(fn store.UpdateFunc, cur store.Document) (data []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sqlite: update %s: update function panicked: %v", cur.Key, p)
		}
	}()
	return fn(cur)
}

// publish records a committed head and wakes every Wait.
func (s *Store) publish(rev store.Revision) {
	s.head.Advance(rev)
}

// Heads returns the last change of each written key among keys, and the
// head revision, both from one read transaction.
func (s *Store) Heads(ctx context.Context, keys []store.Key) ([]store.Change, store.Revision, error) {
	if err := s.check(ctx); err != nil {
		return nil, 0, fmt.Errorf("sqlite: heads: %w", err)
	}
	fail := func(step string, err error) ([]store.Change, store.Revision, error) {
		return nil, 0, s.fail(ctx, "heads: "+step, err)
	}
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fail("begin", err)
	}
	defer tx.Rollback() // read-only: nothing to commit

	// The transaction's snapshot starts with its first read, so the head
	// and the documents read below belong to the same state.
	var h int64
	if err := tx.StmtContext(ctx, s.r.readHead).QueryRowContext(ctx).Scan(&h); err != nil {
		return fail("read head", err)
	}
	if len(keys) == 0 {
		return nil, store.Revision(h), nil
	}
	stmt := tx.StmtContext(ctx, s.r.heads)
	defer stmt.Close()
	var changes []store.Change
	seen := make(map[store.Key]bool, len(keys))
	for _, key := range keys {
		if seen[key] {
			continue
		}
		seen[key] = true
		var rev, committed int64
		c := store.Change{Key: key}
		err := stmt.QueryRowContext(ctx, key.Topic, key.Principal).Scan(&rev, &c.SourceID, &committed)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			continue
		case err != nil:
			return fail("read "+key.String(), err)
		}
		c.Revision, c.Time = store.Revision(rev), time.UnixMicro(committed)
		changes = append(changes, c)
	}
	return changes, store.Revision(h), nil
}

// Since returns up to limit changes after the given revision, in revision
// order.
func (s *Store) Since(ctx context.Context, after store.Revision, limit int) ([]store.Change, error) {
	if err := s.check(ctx); err != nil {
		return nil, fmt.Errorf("sqlite: since %d: %w", after, err)
	}
	// No stored revision exceeds MaxInt64 (see schema).
	if limit <= 0 || after >= math.MaxInt64 {
		return nil, nil
	}
	rows, err := s.r.since.QueryContext(ctx, int64(after), limit)
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
// the store is closed. It knows only the commits of this process.
func (s *Store) Wait(ctx context.Context, after store.Revision) error {
	err := s.head.Wait(ctx, after)
	if err != nil && !errors.Is(err, store.ErrClosed) {
		return fmt.Errorf("sqlite: wait: %w", err)
	}
	return err
}

// Ping reports whether the store can commit: it reads the file, then
// makes a commit through the committer (rewriting the head row with its
// own value, so a full disk or an I/O error on the log shows here), shared
// with whatever batch is going. It changes no revision and wakes no one.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.check(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	var head int64
	if err := s.r.readHead.QueryRowContext(ctx).Scan(&head); err != nil {
		return s.fail(ctx, "ping", err)
	}
	req := &request{ctx: ctx, probe: true, done: make(chan result, 1)}
	if err := s.enqueue(ctx, req); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if res := <-req.done; res.err != nil {
		return fmt.Errorf("sqlite: ping: %w", res.err)
	}
	return nil
}

// Close commits the Updates already queued, then closes the database and
// releases the directory. Later calls return store.ErrClosed; Close itself
// may be called again.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.stopped // a concurrent Close may still be closing
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	<-s.stopped
	s.head.Close()

	// The reader goes first: when the last connection closes, SQLite
	// checkpoints the WAL into the database file.
	var errs []error
	for _, st := range []*sql.Stmt{s.r.getDoc, s.r.readHead, s.r.heads, s.r.since} {
		errs = append(errs, st.Close())
	}
	errs = append(errs, s.reader.Close())
	for _, st := range []*sql.Stmt{s.w.begin, s.w.commit, s.w.rollback, s.w.readHead, s.w.getDoc, s.w.upsert, s.w.writeHead, s.w.probe} {
		errs = append(errs, st.Close())
	}
	errs = append(errs, s.wconn.Close(), s.writer.Close())
	// Last: the directory is free only once the file is closed.
	if s.lock != nil {
		errs = append(errs, s.lock.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close %s: %w", s.dir, err)
	}
	return nil
}

// check returns why a call cannot start: the store is closed or ctx ended.
func (s *Store) check(ctx context.Context) error {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return store.ErrClosed
	}
	return ctx.Err()
}

// fail wraps the error of a failed step. A call that raced with Close fails
// with whatever the closed pool says; it reports store.ErrClosed instead.
func (s *Store) fail(ctx context.Context, step string, err error) error {
	if cerr := s.check(ctx); cerr != nil && !errors.Is(err, cerr) {
		err = errors.Join(cerr, err)
	}
	if s.check(ctx) == nil {
		// Neither the caller nor Close: the database itself failed.
		err = fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return fmt.Errorf("sqlite: %s: %w", step, err)
}
