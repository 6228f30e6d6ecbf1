//go:build !unix

package sqlite

import "os"

// lockName is the lock file's name on systems with flock; elsewhere the
// directory is not locked and running one process per directory is up to
// the operator.
const lockName = "pinion.lock"

func lockDir(string) (*os.File, error) { return nil, nil }
