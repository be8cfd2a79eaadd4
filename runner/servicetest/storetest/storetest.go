// Package storetest gives tests the two kinds of object storage: a local
// folder and the S3 server of BIC_TEST_S3_URL (see servicetest).
package storetest

import (
	"context"
	"crypto/rand"
	"net/url"
	"strings"
	"testing"

	"github.com/bic-dev/bic/publish/storage"
	"github.com/bic-dev/bic/runner/servicetest"
)

// EachStore runs test on a store in a fresh local folder and on the S3
// server of BIC_TEST_S3_URL under a fresh prefix, in parallel subtests
// named file and s3.
func EachStore(t *testing.T, prefix string, test func(t *testing.T, st storage.Store)) {
	t.Helper()
	t.Run("file", func(t *testing.T) {
		t.Parallel()
		test(t, FileStore(t))
	})
	t.Run("s3", func(t *testing.T) {
		t.Parallel()
		test(t, S3Store(t, prefix))
	})
}

// FileStore is a store in a fresh temporary folder.
func FileStore(t testing.TB) storage.Store {
	t.Helper()
	st, err := storage.Open(context.Background(), "file://"+t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// S3Store is a store under a prefix of its own (prefix and a random part)
// in BIC_TEST_S3_URL's bucket, which is created if missing; everything
// under the prefix is deleted when the test ends.
func S3Store(t testing.TB, prefix string) storage.Store {
	t.Helper()
	u, err := url.Parse(servicetest.S3(t))
	if err != nil {
		t.Fatal(err)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + prefix + "-" + strings.ToLower(rand.Text())
	ctx := context.Background()
	st, err := storage.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.(*storage.S3Store).EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		infos, err := st.List(ctx, "")
		if err != nil {
			t.Errorf("cleanup: %v", err)
		}
		for _, info := range infos {
			if err := st.Delete(ctx, info.Key); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
		st.Close()
	})
	return st
}
