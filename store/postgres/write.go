package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pinionkit/pinion/store"
)

// request is one Update waiting for the committer.
type request struct {
	ctx      context.Context // the caller's, checked before the write joins a batch
	key      store.Key
	sourceID string
	fn       store.UpdateFunc
	done     chan result // buffered: the committer never waits for the caller
}

type result struct {
	doc store.Document
	err error
}

// Update commits fn's result as the key's next revision, durably, before
// it returns. fn runs inside the write transaction, after the writes queued
// before it in the same batch, with every other write to the store
// excluded; it must not call Update. The returned document's Data is the
// slice fn returned.
func (s *Store) Update(ctx context.Context, key store.Key, sourceID string, fn store.UpdateFunc) (store.Document, error) {
	if err := s.check(ctx); err != nil {
		return store.Document{}, fmt.Errorf("postgres: update %s: %w", key, err)
	}
	r := &request{ctx: ctx, key: key, sourceID: sourceID, fn: fn, done: make(chan result, 1)}
	select {
	case s.reqs <- r:
	case <-s.quit:
		return store.Document{}, fmt.Errorf("postgres: update %s: %w", key, store.ErrClosed)
	case <-ctx.Done():
		return store.Document{}, fmt.Errorf("postgres: update %s: %w", key, ctx.Err())
	}
	// Once taken, a write is always answered, within the statement
	// timeout: the caller must learn whether it committed.
	res := <-r.done
	return res.doc, res.err
}

// commitLoop is the committer: it takes the first waiting write, then
// every other one already waiting, and commits them together. While a batch
// commits, the next one queues.
func (s *Store) commitLoop() {
	batch := make([]*request, 0, s.maxBatch)
	for {
		select {
		case r := <-s.reqs:
			batch = append(batch[:0], r)
		case <-s.quit:
			return
		}
	collect:
		for len(batch) < s.maxBatch {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
			default:
				break collect
			}
		}
		s.commit(batch)
		clear(batch) // let the requests go
	}
}

// Statements of the write transaction.
const (
	lockHeadQuery = "SELECT head FROM pinion_meta WHERE id = 1 FOR UPDATE"
	readDocsQuery = `SELECT d.topic, d.principal, d.revision, d.data, d.source_id, d.committed_us
		FROM pinion_documents d JOIN unnest($1::text[], $2::text[]) AS k (topic, principal)
			ON d.topic = k.topic AND d.principal = k.principal`
	writeDocsQuery = `INSERT INTO pinion_documents (topic, principal, revision, data, source_id, committed_us)
		SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bytea[], $5::text[], $6::bigint[])
		ON CONFLICT (topic, principal) DO UPDATE SET revision = excluded.revision, data = excluded.data,
			source_id = excluded.source_id, committed_us = excluded.committed_us`
	writeHeadQuery = "UPDATE pinion_meta SET head = $1 WHERE id = 1"
	notifyQuery    = "SELECT pg_notify($1, $2)"
)

// commit runs one batch in one transaction and answers every request in
// it.
func (s *Store) commit(batch []*request) {
	live := make([]*request, 0, len(batch))
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- result{err: fmt.Errorf("postgres: update %s: %w", r.key, err)}
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	// Not the callers' contexts: a caller that goes away must not abort
	// the others' writes. The timeout bounds a database that stopped
	// answering.
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	failAll := func(step string, err error, rs []*request) {
		for _, r := range rs {
			r.done <- result{err: s.fail(ctx, fmt.Sprintf("update %s: %s", r.key, step), err)}
		}
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		failAll("connect", err, live)
		return
	}
	defer conn.Release() // the pool drops a connection left in a transaction or broken

	cur, head, err := s.begin(ctx, conn, live)
	if err != nil {
		rollback(conn)
		failAll("read", err, live)
		return
	}

	// Each write sees the ones before it in the batch.
	done := make([]*request, 0, len(live))
	docs := make([]store.Document, 0, len(live))
	for _, r := range live {
		before, ok := cur[r.key]
		if !ok {
			before = store.Document{Key: r.key, Revision: s.info.Initial}
		}
		// fn gets its own copy: it may scribble on it, and the next write
		// to the key in this batch must not see that.
		before.Data = slices.Clone(before.Data)
		data, err := callFn(r.fn, before)
		if err != nil {
			r.done <- result{err: err} // unchanged, as the contract says
			continue
		}
		if len(data) == 0 {
			// A document is a JSON value; nil data would read as never written.
			r.done <- result{err: fmt.Errorf("postgres: update %s: update function returned no data", r.key)}
			continue
		}
		now := s.now()
		rev := store.NextRevision(head, now)
		if rev > math.MaxInt64 {
			r.done <- result{err: fmt.Errorf("postgres: update %s: revision %d does not fit in a bigint", r.key, rev)}
			continue
		}
		doc := store.Document{Key: r.key, Revision: rev, Data: data, SourceID: r.sourceID, Time: time.UnixMicro(now.UnixMicro())}
		cur[r.key], head = store.Document{Key: r.key, Revision: rev, Data: slices.Clone(data), SourceID: r.sourceID, Time: doc.Time}, rev
		done, docs = append(done, r), append(docs, doc)
	}
	if len(done) == 0 {
		rollback(conn)
		return
	}
	started := time.Now()
	if err := s.finish(ctx, conn, docs, head); err != nil {
		rollback(conn)
		failAll("commit", err, done)
		return
	}
	// Only now that the batch is durable may anyone hear of it.
	s.head.Advance(head)
	if s.observe != nil {
		s.observe(len(done), time.Since(started))
	}
	for i, r := range done {
		r.done <- result{doc: docs[i]}
	}
}

// begin opens the transaction, locks the head and reads the batch's
// documents, in one round trip.
func (s *Store) begin(ctx context.Context, conn *pgxpool.Conn, rs []*request) (map[store.Key]store.Document, store.Revision, error) {
	var topics, principals []string
	seen := make(map[store.Key]bool, len(rs))
	for _, r := range rs {
		if !seen[r.key] {
			seen[r.key] = true
			topics, principals = append(topics, r.key.Topic), append(principals, r.key.Principal)
		}
	}
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	// The head row's lock is taken first and held to the commit: it is
	// what orders writes across instances (see the package comment).
	b.Queue(lockHeadQuery)
	b.Queue(readDocsQuery, topics, principals)
	br := conn.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, 0, err
	}
	var head int64
	if err := br.QueryRow().Scan(&head); err != nil {
		return nil, 0, err
	}
	rows, err := br.Query()
	if err != nil {
		return nil, 0, err
	}
	cur := make(map[store.Key]store.Document, len(topics))
	for rows.Next() {
		var d store.Document
		var rev, committed int64
		if err := rows.Scan(&d.Topic, &d.Principal, &rev, &d.Data, &d.SourceID, &committed); err != nil {
			rows.Close()
			return nil, 0, err
		}
		d.Revision, d.Time = store.Revision(rev), time.UnixMicro(committed)
		cur[d.Key] = d
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	return cur, store.Revision(head), br.Close()
}

// finish writes the batch's documents, advances the head, queues the
// notification and commits, in one round trip.
func (s *Store) finish(ctx context.Context, conn *pgxpool.Conn, docs []store.Document, head store.Revision) error {
	// The table keeps each document's last state only: a key written twice
	// in the batch is written once, with its last write.
	last := make(map[store.Key]int, len(docs))
	for i, d := range docs {
		last[d.Key] = i
	}
	n := len(last)
	topics, principals, sources := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	revs, times := make([]int64, 0, n), make([]int64, 0, n)
	data := make([][]byte, 0, n)
	for i, d := range docs {
		if last[d.Key] != i {
			continue
		}
		topics, principals, sources = append(topics, d.Topic), append(principals, d.Principal), append(sources, d.SourceID)
		revs, times, data = append(revs, int64(d.Revision)), append(times, d.Time.UnixMicro()), append(data, d.Data)
	}
	b := &pgx.Batch{}
	b.Queue(writeDocsQuery, topics, principals, revs, data, sources, times)
	b.Queue(writeHeadQuery, int64(head))
	// Delivered by PostgreSQL only if, and when, the transaction commits.
	b.Queue(notifyQuery, s.channel, strconv.FormatUint(uint64(head), 10))
	b.Queue("COMMIT")
	br := conn.SendBatch(ctx, b)
	for range b.Len() {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return err
		}
	}
	if err := br.Close(); err != nil {
		return err
	}
	// A COMMIT in a failed transaction answers ROLLBACK without an error.
	if tx := conn.Conn().PgConn().TxStatus(); tx != 'I' {
		return fmt.Errorf("transaction status %q after COMMIT", tx)
	}
	return nil
}

// rollback ends a failed transaction so that the connection can be reused;
// if that fails, the pool discards the connection.
func rollback(conn *pgxpool.Conn) {
	if conn.Conn().PgConn().TxStatus() == 'I' || conn.Conn().IsClosed() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		conn.Conn().Close(ctx)
	}
}
