package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrationFiles are the schema's migrations, NNNN_name.sql, applied in
// order of NNNN. A migration, once released, is never edited: a change is a
// new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the embedded migrations in version order.
func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration file %q is not named NNNN_name.sql", e.Name())
		}
		body, err := fs.ReadFile(migrationFiles, path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(body)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: want version %d (versions are consecutive)", m.name, i+1)
		}
	}
	return ms, nil
}

// migrate brings the schema up to date and creates the store's identity,
// all in one transaction under an advisory lock: instances that start at
// once queue on the lock, and each later one finds the work done. DDL is
// transactional in PostgreSQL, so a migration that fails leaves nothing
// half-applied. This is the whole runner; see the README for why Pinion
// does not use a migration library.
func migrate(ctx context.Context, pool *pgxpool.Pool, now time.Time) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(ctx) // after Commit, a no-op

	var schema *string
	if err := tx.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return fmt.Errorf("read schema: %w", err)
	}
	if schema == nil {
		return fmt.Errorf("no schema to create tables in: the search_path names no existing schema")
	}
	// The lock is per schema, so stores in different schemas of one
	// database (the tests) do not wait for each other.
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('pinion-migrate:' || $1, 0))", *schema); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS pinion_schema_migrations (
		version    integer     PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	var current int
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM pinion_schema_migrations").Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > len(ms) {
		return fmt.Errorf("schema %q is at version %d, newer than %d, the latest this build of Pinion knows; run a newer build", *schema, current, len(ms))
	}
	for _, m := range ms[current:] {
		// The simple protocol runs a file of several statements at once.
		if _, err := tx.Conn().PgConn().Exec(ctx, m.sql).ReadAll(); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO pinion_schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
			return fmt.Errorf("record migration %s: %w", m.name, err)
		}
	}

	// The identity is created once, with the schema, and belongs to the
	// database: every instance reads the same epoch. The head starts at
	// Initial, so that the first write outranks the never-written state
	// even if the clock goes back after creation.
	var epoch [4]byte
	rand.Read(epoch[:]) // never fails: crypto/rand crashes the program instead
	initial := max(now.UnixMicro(), 0) + 1
	if _, err := tx.Exec(ctx, `INSERT INTO pinion_meta (id, epoch, initial, head) VALUES (1, $1, $2, $2)
		ON CONFLICT (id) DO NOTHING`, hex.EncodeToString(epoch[:]), initial); err != nil {
		return fmt.Errorf("create identity: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// channelName is the NOTIFY channel of the store kept in schema. Channels
// are database-wide, so it names the schema: a store must never hear
// another store's heads. Channel names are identifiers of at most 63 bytes;
// a longer schema name is replaced by its hash rather than truncated, so
// that two long names cannot share a channel.
func channelName(schema string) string {
	if ch := "pinion:" + schema; len(ch) <= 63 {
		return ch
	}
	sum := sha256.Sum256([]byte(schema))
	return "pinion#" + hex.EncodeToString(sum[:24])
}

// listenSQL is the LISTEN statement for channel, quoted as an identifier.
func listenSQL(channel string) string {
	return "LISTEN " + pgx.Identifier{channel}.Sanitize()
}
