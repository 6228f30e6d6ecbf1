// Package pgtest gives tests a PostgreSQL schema of their own on the
// test database. Without a reachable database the test is skipped with a
// message, except in CI (CI=true), where it fails: CI must run them.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// defaultURL is the test database: the machine's PostgreSQL with trust
// authentication. PINION_TEST_DATABASE_URL overrides it.
const defaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// baseURL is the test database's URL.
func baseURL() string {
	if u := os.Getenv("PINION_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return defaultURL
}

// Connect opens an administrative connection to the test database, closed
// at the end of the test, or skips (fails in CI) when there is none.
func Connect(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, baseURL())
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required in CI (CI=true) but unreachable at %s: %v", baseURL(), err)
		}
		t.Skipf("skipping: no PostgreSQL at %s (%v); set PINION_TEST_DATABASE_URL or start one (.ci/run does)", baseURL(), err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.Close(ctx)
	})
	return conn
}

// Schema creates an empty schema for the test, dropped at its end, and
// returns the database URL whose search_path selects it.
func Schema(t testing.TB) (dbURL, schema string) {
	t.Helper()
	conn := Connect(t)
	var b [6]byte
	rand.Read(b[:])
	schema = "pinion_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// A fresh connection: the test may have cut the shared ones.
		c, err := pgx.Connect(ctx, baseURL())
		if err != nil {
			t.Logf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(baseURL())
	if err != nil {
		t.Fatalf("PINION_TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), schema
}
