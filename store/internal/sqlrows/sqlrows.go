// Package sqlrows reads the rows of the SQL backends' queries into store
// types, once for both: database/sql's *sql.Rows (store/sqlite) and pgx's
// pgx.Rows (store/postgres) both have the three methods it needs.
package sqlrows

import (
	"time"

	"github.com/pinionkit/pinion/store"
)

// Rows is a query's result, read row by row. The caller closes it.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// Changes reads every row of a change-feed query whose columns are, in
// order, topic, principal, revision, source id, and commit time in
// microseconds since the Unix epoch. Revisions and times are signed 64-bit
// integers in the database, since neither SQLite nor PostgreSQL has an
// unsigned one (no stored revision exceeds MaxInt64).
func Changes(rows Rows) ([]store.Change, error) {
	var changes []store.Change
	for rows.Next() {
		var c store.Change
		var rev, committed int64
		if err := rows.Scan(&c.Topic, &c.Principal, &rev, &c.SourceID, &committed); err != nil {
			return nil, err
		}
		c.Revision, c.Time = store.Revision(rev), time.UnixMicro(committed)
		changes = append(changes, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return changes, nil
}
