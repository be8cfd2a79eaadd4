package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"time"
)

// Store is object storage as bic's writers and readers use it. Its parts
// are small so that a consumer can ask for only what it uses: the server
// needs a Reader, a runner a Writer.
type Store interface {
	Reader
	Writer
	// Delete removes key; a key that holds nothing is not an error.
	Delete(ctx context.Context, key string) error
	// Close releases what the store holds open.
	Close() error
	// String names the store without any credential.
	String() string
}

// Reader reads objects.
type Reader interface {
	// Get opens key's content; the error wraps ErrNotFound when it holds
	// nothing. A pointer is read with Get.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Stat describes key; the error wraps ErrNotFound when it holds nothing.
	Stat(ctx context.Context, key string) (Info, error)
	// List describes every object whose key starts with prefix, sorted by key.
	List(ctx context.Context, prefix string) ([]Info, error)
}

// Writer writes objects.
type Writer interface {
	// Put stores r under key. A reader of key never sees part of r.
	Put(ctx context.Context, key string, r io.Reader) error
	// PutBlob streams r into storage under the sha256 of its content
	// (BlobKey), without holding it in memory. Writing bytes that are
	// already stored changes nothing.
	PutBlob(ctx context.Context, r io.Reader) (Blob, error)
	// WritePointer replaces key's content with value in one step: a
	// concurrent reader sees the old value or the new one.
	WritePointer(ctx context.Context, key string, value []byte) error
}

// RefreshAge is how old a blob may be before PutBlob of the same bytes
// makes it young again (a file's time is touched; an S3 object, whose
// time cannot be set, is uploaded again). Blob gc deletes only blobs older
// than its grace period, at least 10 minutes, so a blob that a publish
// has just written, or written again, is never deleted under it.
const RefreshAge = 5 * time.Minute

// Blob is content stored under its hash.
type Blob struct {
	Hash string // sha256 of the content, lowercase hex
	Key  string // BlobKey(Hash)
	Size int64
}

// Info describes a stored object.
type Info struct {
	Key      string
	Size     int64
	Modified time.Time
}

// hashingReader hashes and counts what is read through it, so a blob is
// hashed in the same pass that writes it.
type hashingReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func newHashingReader(r io.Reader) *hashingReader {
	return &hashingReader{r: r, h: sha256.New()}
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}

// blob is what has been read so far, as a Blob.
func (h *hashingReader) blob() Blob {
	sum := hex.EncodeToString(h.h.Sum(nil))
	return Blob{Hash: sum, Key: BlobKey(sum), Size: h.n}
}

// copyBufSize is the buffer of copyContext: large enough for few system
// calls, small enough that a blob of any size costs the same memory.
const copyBufSize = 256 << 10

// copyContext is io.Copy that stops between reads once ctx is done, so a
// long upload honours cancellation.
func copyContext(ctx context.Context, dst io.Writer, src io.Reader) (int64, error) {
	buf := make([]byte, copyBufSize)
	var written int64
	for {
		if err := ctx.Err(); err != nil {
			return written, err
		}
		n, rerr := src.Read(buf)
		if n > 0 {
			m, werr := dst.Write(buf[:n])
			written += int64(m)
			if werr != nil {
				return written, werr
			}
			if m != n {
				return written, io.ErrShortWrite
			}
		}
		if rerr == io.EOF {
			return written, nil
		}
		if rerr != nil {
			return written, rerr
		}
	}
}

// ReadAll reads the object at key whole, refusing one larger than limit
// bytes: what bic reads back (releases, pages' data) has a bound, and a
// larger object is not one it wrote.
func ReadAll(ctx context.Context, r Reader, key string, limit int64) ([]byte, error) {
	rc, err := r.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("read %s: larger than %d bytes", key, limit)
	}
	return b, nil
}
