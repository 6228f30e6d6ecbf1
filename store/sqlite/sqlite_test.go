package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pinionkit/pinion/store"
	"github.com/pinionkit/pinion/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T, now func() time.Time) store.Backend {
			return openTest(t, t.TempDir(), WithClock(now))
		},
		Reopen: func(t *testing.T, prev store.Backend, now func() time.Time) store.Backend {
			return openTest(t, prev.(*Store).dir, WithClock(now))
		},
	})
}

// openTest opens the store in dir and closes it when the test ends.
func openTest(t testing.TB, dir string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(t.Context(), dir, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestOpenCreatesDir(t *testing.T) {
	// A '?' and a '%' in the path must not be taken for URI syntax.
	dir := filepath.Join(t.TempDir(), "a?b%20c", "data")
	openTest(t, dir)
	if _, err := os.Stat(filepath.Join(dir, fileName)); err != nil {
		t.Fatalf("database file: %v", err)
	}
}

// TestPragmas checks that every pooled connection, not only the first,
// runs with the durability settings.
func TestPragmas(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := t.Context()
	for _, db := range []struct {
		name      string
		db        *sql.DB
		conns     int
		queryOnly int
	}{
		{"writer", s.writer, 0, 0}, // its one connection is s.wconn
		{"reader", s.reader, 3, 1},
	} {
		t.Run(db.name, func(t *testing.T) {
			var conns []*sql.Conn
			if db.db == s.writer {
				conns = append(conns, s.wconn)
			}
			// Holding conns at once forces the pool to open that many.
			for range db.conns {
				c, err := db.db.Conn(ctx)
				if err != nil {
					t.Fatalf("Conn: %v", err)
				}
				defer c.Close()
				conns = append(conns, c)
			}
			for i, c := range conns {
				for _, p := range []struct {
					pragma string
					want   string
				}{
					{"journal_mode", "wal"},
					{"synchronous", "2"}, // FULL
					{"busy_timeout", "10000"},
					{"query_only", strconv.Itoa(db.queryOnly)},
				} {
					var got string
					if err := c.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(&got); err != nil {
						t.Fatalf("conn %d: PRAGMA %s: %v", i, p.pragma, err)
					}
					if got != p.want {
						t.Errorf("conn %d: PRAGMA %s = %s, want %s", i, p.pragma, got, p.want)
					}
				}
			}
		})
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.wconn.ExecContext(t.Context(), "PRAGMA user_version = 2"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(t.Context(), dir)
	if err == nil {
		s.Close()
		t.Fatal("Open accepted a database with a newer schema")
	}
	if !strings.Contains(err.Error(), "schema version 2 is newer") {
		t.Errorf("Open error = %v, want one naming the newer schema version", err)
	}
}

// helperEnv names the directory TestHelperProcess writes to; it is set only
// in the child process TestKill9 starts.
const helperEnv = "PINION_SQLITE_KILL9_DIR"

// TestHelperProcess is the child of TestKill9: it writes as fast as it can
// and prints each acknowledged write, until it is killed.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		t.Skip("the child process of TestKill9")
	}
	ctx := context.Background()
	s, err := Open(ctx, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// Never outlive a parent that died before killing us.
	for i, deadline := 1, time.Now().Add(time.Minute); time.Now().Before(deadline); i++ {
		key := store.Key{Topic: "kill", Principal: "p" + strconv.Itoa(i%3)}
		doc, err := s.Update(ctx, key, "child", func(store.Document) ([]byte, error) {
			return []byte(strconv.Itoa(i)), nil
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		// Stdout is unbuffered: the line leaves in one write, after the commit.
		fmt.Printf("ack %s %d %s\n", key.Principal, doc.Revision, doc.Data)
	}
	os.Exit(3)
}

// TestKill9 kills a writing process with SIGKILL and checks that every
// write it acknowledged is in the store it leaves behind.
func TestKill9(t *testing.T) {
	dir := t.TempDir()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var stderr bytes.Buffer
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	cmd.Stdout, cmd.Stderr = w, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close() // the child holds the write end now; EOF comes when it dies

	type ack struct {
		rev store.Revision
		n   int
	}
	acks := make(map[string]ack) // the last acknowledged write per principal
	var count int
	var last store.Revision
	sc := bufio.NewScanner(r)
	scan := func() bool {
		if !sc.Scan() {
			return false
		}
		f := strings.Fields(sc.Text())
		if len(f) != 4 || f[0] != "ack" {
			return true // test framework output
		}
		rev, err := store.ParseRevision(f[2])
		if err != nil {
			t.Fatalf("child printed %q: %v", sc.Text(), err)
		}
		n, err := strconv.Atoi(f[3])
		if err != nil {
			t.Fatalf("child printed %q: %v", sc.Text(), err)
		}
		if rev <= last {
			t.Errorf("acknowledged revision %d after %d", rev, last)
		}
		acks[f[1]], last = ack{rev, n}, rev
		count++
		return true
	}
	const before = 300
	for count < before && scan() {
	}
	if count < before {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child stopped after %d acknowledgements: %s", count, stderr.Bytes())
	}
	// While the child runs, the directory is its own.
	if s, err := Open(t.Context(), dir); err == nil {
		s.Close()
		t.Error("Open succeeded on a directory another process holds")
	} else if want := fmt.Sprintf("in use by process %d", cmd.Process.Pid); !strings.Contains(err.Error(), want) {
		t.Errorf("Open error = %q, want it to say %q", err, want)
	}
	start := time.Now()
	if err := syscall.Kill(cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// What the child printed before it died was acknowledged too.
	for scan() {
	}
	var exitErr *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &exitErr) || exitErr.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want SIGKILL; stderr: %s", err, stderr.Bytes())
	}
	t.Logf("killed the child after %d acknowledged writes (%d read before the kill); reopening %v later",
		count, before, time.Since(start))

	s := openTest(t, dir)
	var ok string
	if err := s.reader.QueryRowContext(t.Context(), "PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Errorf("integrity_check = %q, %v", ok, err)
	}
	for principal, a := range acks {
		doc, err := s.Get(t.Context(), store.Key{Topic: "kill", Principal: principal})
		if err != nil {
			t.Fatal(err)
		}
		n, err := strconv.Atoi(string(doc.Data))
		if err != nil {
			t.Fatalf("%s: data %q: %v", principal, doc.Data, err)
		}
		// The child may have committed one write it had no time to print.
		switch {
		case doc.Revision < a.rev:
			t.Errorf("%s: revision %d, older than the acknowledged %d: a write was lost", principal, doc.Revision, a.rev)
		case doc.Revision == a.rev && n != a.n:
			t.Errorf("%s: revision %d has %d, want the acknowledged %d", principal, doc.Revision, n, a.n)
		case doc.Revision > a.rev && n <= a.n:
			t.Errorf("%s: revision %d has %d, not later than the acknowledged %d", principal, doc.Revision, n, a.n)
		}
	}
	_, head, err := s.Heads(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if head < last {
		t.Errorf("head %d is older than the last acknowledged revision %d", head, last)
	}
	doc, err := s.Update(t.Context(), store.Key{Topic: "after"}, "", func(store.Document) ([]byte, error) { return []byte("1"), nil })
	if err != nil {
		t.Fatal(err)
	}
	if doc.Revision <= head {
		t.Errorf("next revision %d, want > head %d", doc.Revision, head)
	}
}

const benchDoc = `{"theme":"dark","fontSize":14,"sidebar":{"open":true,"width":280}}`

func benchWrite(store.Document) ([]byte, error) { return []byte(benchDoc), nil }

func BenchmarkUpdate(b *testing.B) {
	b.Run("sequential", func(b *testing.B) {
		s := openTest(b, b.TempDir())
		key := store.Key{Topic: "bench"}
		for b.Loop() {
			if _, err := s.Update(b.Context(), key, "", benchWrite); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		s := openTest(b, b.TempDir())
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			key := store.Key{Topic: "bench", Principal: strconv.FormatInt(next.Add(1), 10)}
			for pb.Next() {
				if _, err := s.Update(b.Context(), key, "", benchWrite); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func BenchmarkGet(b *testing.B) {
	s := openTest(b, b.TempDir())
	key := store.Key{Topic: "bench"}
	if _, err := s.Update(b.Context(), key, "", benchWrite); err != nil {
		b.Fatal(err)
	}
	b.Run("sequential", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Get(b.Context(), key); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Get(b.Context(), key); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
