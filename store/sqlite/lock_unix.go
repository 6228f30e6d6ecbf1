//go:build unix

package sqlite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockName is the file in the data directory whose exclusive lock marks
// the directory as in use; it holds the owner's process id, for the error
// a second process gets.
const lockName = "pinion.lock"

// lockDir takes an exclusive, non-blocking flock on dir's lock file. The
// kernel drops the lock when the process dies, kill -9 included, so a
// crashed owner never leaves the directory locked. The lock belongs to the
// open file, so a second Open in the same process is refused too: two
// Stores on one file would each believe they know the head.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("data directory %s is in use by %s (it holds the lock on %s); stop it or choose another directory",
				dir, holder(path), lockName)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// Record who holds it. A failure here does not weaken the lock, only
	// the message a second process prints.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// holder describes the process that wrote its id into the lock file.
func holder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "another process"
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return "another process"
	}
	if pid == os.Getpid() {
		return fmt.Sprintf("this process (pid %d), through another open store", pid)
	}
	return fmt.Sprintf("process %d", pid)
}
