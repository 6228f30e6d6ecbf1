//go:build !unix

package sqlite

import "os"

// LockName is the lock file's name on systems with flock; elsewhere the
// directory is not locked and running one process per directory is up to
// the operator.
const LockName = "pinion.lock"

func lockDir(string) (*os.File, error) { return nil, nil }
