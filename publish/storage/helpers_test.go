package storage

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/bic-dev/bic/runner/servicetest"
)

// eachStore runs test on a file store in a fresh directory and on an S3
// store under a fresh prefix of the test bucket, so that both keep the
// same promises.
func eachStore(t *testing.T, test func(t *testing.T, s Store)) {
	t.Helper()
	t.Run("file", func(t *testing.T) {
		t.Parallel()
		test(t, newFileStore(t))
	})
	t.Run("s3", func(t *testing.T) {
		t.Parallel()
		test(t, newS3Store(t))
	})
}

func newFileStore(t *testing.T) *FileStore {
	t.Helper()
	s, err := NewFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newS3Store is a store under a prefix of its own in BIC_TEST_S3_URL's
// bucket (created if missing), emptied when the test ends.
func newS3Store(t *testing.T) *S3Store {
	t.Helper()
	cfg, err := ParseS3URL(servicetest.S3(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Prefix += "test-" + strings.ToLower(rand.Text()) + "/"
	s, err := NewS3(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ok, err := s.Client().BucketExists(ctx, s.Bucket())
	if err != nil {
		t.Fatalf("bucket %s at %s: %v", s.Bucket(), s, err)
	}
	if !ok {
		err := s.Client().MakeBucket(ctx, s.Bucket(), minio.MakeBucketOptions{Region: cfg.Region})
		if code := minio.ToErrorResponse(err).Code; err != nil && code != "BucketAlreadyOwnedByYou" && code != "BucketAlreadyExists" {
			t.Fatalf("create bucket %s at %s: %v", s.Bucket(), s, err)
		}
	}
	t.Cleanup(func() {
		infos, err := s.List(ctx, "")
		if err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		for _, info := range infos {
			if err := s.Delete(ctx, info.Key); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	})
	return s
}

func put(t *testing.T, s Store, key, content string) {
	t.Helper()
	if err := s.Put(t.Context(), key, strings.NewReader(content)); err != nil {
		t.Fatal(err)
	}
}

// get is key's content, or fails the test.
func get(t *testing.T, s Store, key string) []byte {
	t.Helper()
	b, err := read(t.Context(), s, key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func read(ctx context.Context, s Store, key string) ([]byte, error) {
	r, err := s.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var buf bytes.Buffer
	_, err = io.Copy(&buf, r)
	return buf.Bytes(), err
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
