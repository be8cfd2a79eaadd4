package main

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bic-dev/bic/publish/storage"
)

// timedStore measures how long PutBlob takes once its data has ended:
// a worker streams a blob to storage while it encodes, so the call itself
// lasts as long as the query; what it adds is the part after the last
// byte (fsync and rename, or the HEAD and PUT of S3).
type timedStore struct {
	storage.Store
	calls atomic.Int64
	after atomic.Int64 // nanoseconds, summed
}

func (s *timedStore) PutBlob(ctx context.Context, r io.Reader) (storage.Blob, error) {
	er := &eofReader{r: r}
	b, err := s.Store.PutBlob(ctx, er)
	if at := er.at(); !at.IsZero() {
		s.calls.Add(1)
		s.after.Add(int64(time.Since(at)))
	}
	return b, err
}

// meanAfter is the mean time a PutBlob took after its data ended.
func (s *timedStore) meanAfter() time.Duration {
	n := s.calls.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(s.after.Load() / n)
}

// eofReader notes when its reader first reports the end.
type eofReader struct {
	r    io.Reader
	mu   sync.Mutex
	done time.Time
}

func (e *eofReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		e.mu.Lock()
		if e.done.IsZero() {
			e.done = time.Now()
		}
		e.mu.Unlock()
	}
	return n, err
}

func (e *eofReader) at() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.done
}
