package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pinionkit/pinion/store"
)

// listen keeps this instance's LISTEN connection up until ctx ends,
// advancing the head on every notification. The result of the first
// attempt is sent on first, so that Open can fail on a database it cannot
// listen to.
func (s *Store) listen(ctx context.Context, first chan<- error) {
	backoff := 50 * time.Millisecond
	for {
		up, err := s.listenOnce(ctx, first)
		first = nil
		if ctx.Err() != nil {
			return
		}
		if up {
			backoff = 50 * time.Millisecond
		}
		s.log.Warn("postgres: LISTEN connection lost; reconnecting, then catching up by cursor",
			"err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// listenOnce connects, LISTENs, reads the head, then follows notifications
// until the connection fails or ctx ends. It reports whether it got as far
// as listening.
func (s *Store) listenOnce(ctx context.Context, first chan<- error) (up bool, err error) {
	defer func() {
		if first != nil {
			first <- err
		}
	}()
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	conn, err := pgx.ConnectConfig(cctx, s.connCfg.Copy())
	cancel()
	if err != nil {
		return false, err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	// LISTEN before reading the head: a commit after the LISTEN is
	// notified, one before it is in the head, so the gap is covered.
	if err := s.poll(ctx, conn, listenSQL(s.channel)); err != nil {
		return false, err
	}
	if err := s.poll(ctx, conn, ""); err != nil {
		return false, err
	}
	if first != nil {
		first <- nil
		first = nil
	}
	s.listening.Store(true)
	defer s.listening.Store(false)
	s.log.Debug("postgres: listening", "channel", s.channel)
	for {
		wctx, cancel := context.WithTimeout(ctx, listenCheck)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			rev, perr := strconv.ParseUint(n.Payload, 10, 64)
			if perr != nil {
				// Not one of ours: read the head instead of trusting it.
				if err := s.poll(ctx, conn, ""); err != nil {
					return true, err
				}
				continue
			}
			s.head.Advance(store.Revision(rev))
		case ctx.Err() != nil:
			return true, ctx.Err()
		case wctx.Err() != nil && !conn.IsClosed():
			// Quiet for a while: make sure the connection still works (a
			// cut without a reset is otherwise noticed only when TCP gives
			// up), and pick up the head as a safety net.
			if err := s.poll(ctx, conn, ""); err != nil {
				return true, err
			}
		default:
			return true, err
		}
	}
}

// poll runs stmt on the LISTEN connection, or, when stmt is empty, reads
// the head and advances this instance's view of it.
func (s *Store) poll(ctx context.Context, conn *pgx.Conn, stmt string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if stmt != "" {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
		return nil
	}
	var head int64
	if err := conn.QueryRow(ctx, "SELECT head FROM pinion_meta WHERE id = 1").Scan(&head); err != nil {
		return fmt.Errorf("read head: %w", err)
	}
	s.head.Advance(store.Revision(head))
	return nil
}
