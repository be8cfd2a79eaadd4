//go:build unix

package queue

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes an exclusive lock on dir, so that no two embedded servers,
// in this process or another, run on the same files: each would hold its
// own half of the queue and overwrite the other's state. The operating
// system drops the lock when the process ends, however it ends.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, "bic.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("queue: lock %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("queue: %s is in use by another embedded nats server (another bic process, or a second Connect in this one)", dir)
		}
		return nil, fmt.Errorf("queue: lock %s: %w", dir, err)
	}
	return func() { f.Close() }, nil
}
