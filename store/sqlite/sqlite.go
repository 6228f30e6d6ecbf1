// Package sqlite is Pinion's default store.Backend: an embedded, durable
// store in one SQLite file, through the pure-Go modernc.org/sqlite driver.
//
// A commit is on disk before Update returns (WAL journal with
// synchronous=FULL), so an acknowledged write survives a crash of the
// process or the machine. One process owns the file: it learns of new
// commits from its own Updates only, so Wait does not see writes made by
// another process. Sharing one database between instances is the job of a
// server database backend, which learns of other instances' changes from
// the database itself.
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
	"sync"
	"time"

	sqlitedriver "modernc.org/sqlite"

	"github.com/pinionkit/pinion/store"
)

// FileName is the name of the database file Open keeps in its directory.
const FileName = "pinion.db"

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
}

// Store is a store.Backend kept in one SQLite file. It is safe for
// concurrent use.
type Store struct {
	dir  string
	info store.Info
	now  func() time.Time

	// writer holds the single connection Update writes through; its
	// transactions begin IMMEDIATE, taking SQLite's write lock up front so
	// that another process cannot interleave with a read-modify-write.
	writer *sql.DB
	// reader is the pool Get, Heads and Since read through. Under WAL,
	// readers see the last commit and never wait for the writer.
	reader *sql.DB
	// getDoc is Get's query, prepared once: it is the hot path of every
	// snapshot read, and preparing takes a third of its time.
	getDoc *sql.Stmt
	// writeMu serialises Update within the process, so that the in-memory
	// head advances in commit order and waiting writers queue here rather
	// than on SQLite's busy timeout.
	writeMu sync.Mutex

	head *store.Head // this process's view of the head, for Wait

	mu     sync.Mutex // guards closed
	closed bool
}

var _ store.Backend = (*Store)(nil)

// Option configures a Store.
type Option func(*Store)

// WithClock makes the store read the time from now instead of time.Now, so
// that tests can move the clock, backwards included.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// Open opens the store kept in dir, creating dir (mode 0700: documents may
// be private to a principal) and the database file in it if needed. The
// store's identity and head are created with the file and kept for its
// whole life.
func Open(ctx context.Context, dir string, opts ...Option) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", dir, err)
	}
	s := &Store{
		dir: abs,
		now: time.Now,
	}
	for _, opt := range opts {
		opt(s)
	}
	path := filepath.Join(abs, FileName)
	if s.writer, err = openDB(path, true); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// One connection: writes are serialised anyway, and keeping it open
	// keeps its page cache warm.
	s.writer.SetMaxOpenConns(1)
	s.writer.SetMaxIdleConns(1)
	s.writer.SetConnMaxLifetime(0)
	s.writer.SetConnMaxIdleTime(0)
	if err := s.initSchema(ctx); err != nil {
		s.writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	if s.reader, err = openDB(path, false); err != nil {
		s.writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// Readers do not wait for each other or for the writer; a few more
	// than the CPUs cover reads that wait on the disk.
	readers := max(4, 2*runtime.GOMAXPROCS(0))
	s.reader.SetMaxOpenConns(readers)
	s.reader.SetMaxIdleConns(readers)
	// Preparing opens a reader connection, so a reader that cannot open
	// the file fails Open rather than the first Get.
	if s.getDoc, err = s.reader.PrepareContext(ctx, getDocQuery); err != nil {
		s.writer.Close()
		s.reader.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
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

// getDocQuery reads one document; its parameters are the key's topic and
// principal.
const getDocQuery = "SELECT revision, data, source_id, committed_us FROM documents WHERE topic = ? AND principal = ?"

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
	doc, err := s.scanDoc(s.getDoc.QueryRowContext(ctx, key.Topic, key.Principal), key)
	if err != nil {
		return store.Document{}, s.fail(ctx, fmt.Sprintf("get %s", key), err)
	}
	return doc, nil
}

// Update commits fn's result as the key's next revision, fsynced before it
// returns. fn runs inside the write transaction, with every other write
// excluded; it may read the store, but must not call Update. The returned
// document's Data is the slice fn returned.
func (s *Store) Update(ctx context.Context, key store.Key, sourceID string, fn store.UpdateFunc) (store.Document, error) {
	if err := s.check(ctx); err != nil {
		return store.Document{}, fmt.Errorf("sqlite: update %s: %w", key, err)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	// Close may have run, or ctx ended, while this call queued.
	if err := s.check(ctx); err != nil {
		return store.Document{}, fmt.Errorf("sqlite: update %s: %w", key, err)
	}
	doc, err := s.update(ctx, key, sourceID, fn)
	if err != nil {
		return store.Document{}, err
	}
	// Only now that the change is committed may anyone hear of it.
	s.publish(doc.Revision)
	return doc, nil
}

func (s *Store) update(ctx context.Context, key store.Key, sourceID string, fn store.UpdateFunc) (store.Document, error) {
	fail := func(step string, err error) (store.Document, error) {
		return store.Document{}, s.fail(ctx, fmt.Sprintf("update %s: %s", key, step), err)
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fail("begin", err)
	}
	defer tx.Rollback() // after Commit, a no-op

	// The head comes from the file, not from memory: the file is the truth
	// even after a commit that failed in an unclear state.
	var head int64
	if err := tx.QueryRowContext(ctx, "SELECT head FROM meta WHERE id = 1").Scan(&head); err != nil {
		return fail("read head", err)
	}
	cur, err := s.scanDoc(tx.QueryRowContext(ctx, getDocQuery, key.Topic, key.Principal), key)
	if err != nil {
		return fail("read document", err)
	}
	data, err := fn(cur)
	if err != nil {
		return store.Document{}, err
	}
	if len(data) == 0 {
		// A document is a JSON value; nil data would read as never written.
		return fail("update function", errors.New("returned no data"))
	}
	now := s.now()
	rev := store.NextRevision(store.Revision(head), now)
	if rev > math.MaxInt64 {
		return fail("revision", fmt.Errorf("revision %d does not fit in an SQLite INTEGER", rev))
	}
	doc := store.Document{Key: key, Revision: rev, Data: data, SourceID: sourceID, Time: time.UnixMicro(now.UnixMicro())}
	if _, err := tx.ExecContext(ctx, `INSERT INTO documents (topic, principal, revision, data, source_id, committed_us)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (topic, principal) DO UPDATE SET revision = excluded.revision, data = excluded.data,
			source_id = excluded.source_id, committed_us = excluded.committed_us`,
		key.Topic, key.Principal, int64(rev), data, sourceID, now.UnixMicro()); err != nil {
		return fail("write document", err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE meta SET head = ? WHERE id = 1", int64(rev)); err != nil {
		return fail("write head", err)
	}
	if err := tx.Commit(); err != nil {
		return fail("commit", err)
	}
	return doc, nil
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
	if err := tx.QueryRowContext(ctx, "SELECT head FROM meta WHERE id = 1").Scan(&h); err != nil {
		return fail("read head", err)
	}
	if len(keys) == 0 {
		return nil, store.Revision(h), nil
	}
	stmt, err := tx.PrepareContext(ctx,
		"SELECT revision, source_id, committed_us FROM documents WHERE topic = ? AND principal = ?")
	if err != nil {
		return fail("prepare", err)
	}
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
	rows, err := s.reader.QueryContext(ctx, `SELECT topic, principal, revision, source_id, committed_us
		FROM documents WHERE revision > ? ORDER BY revision LIMIT ?`, int64(after), limit)
	if err != nil {
		return nil, s.fail(ctx, fmt.Sprintf("since %d", after), err)
	}
	defer rows.Close()
	var changes []store.Change
	for rows.Next() {
		var c store.Change
		var rev, committed int64
		if err := rows.Scan(&c.Topic, &c.Principal, &rev, &c.SourceID, &committed); err != nil {
			return nil, s.fail(ctx, fmt.Sprintf("since %d", after), err)
		}
		c.Revision, c.Time = store.Revision(rev), time.UnixMicro(committed)
		changes = append(changes, c)
	}
	if err := rows.Err(); err != nil {
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

// Ping reports whether the database file can be read.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.check(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	var head int64
	if err := s.reader.QueryRowContext(ctx, "SELECT head FROM meta WHERE id = 1").Scan(&head); err != nil {
		return s.fail(ctx, "ping", err)
	}
	return nil
}

// Close waits for a running Update, then closes the database. Later calls
// return store.ErrClosed; Close itself may be called again.
func (s *Store) Close() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.head.Close()

	// The reader goes first: when the last connection closes, SQLite
	// checkpoints the WAL into the database file.
	errG := s.getDoc.Close()
	errR := s.reader.Close()
	errW := s.writer.Close()
	if err := errors.Join(errG, errR, errW); err != nil {
		return fmt.Errorf("sqlite: close %s: %w", s.dir, err)
	}
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

// fail wraps the error of a failed step. A call that raced with Close fails
// with whatever the closed pool says; it reports store.ErrClosed instead.
func (s *Store) fail(ctx context.Context, step string, err error) error {
	if cerr := s.check(ctx); cerr != nil && !errors.Is(err, cerr) {
		err = errors.Join(cerr, err)
	}
	return fmt.Errorf("sqlite: %s: %w", step, err)
}
