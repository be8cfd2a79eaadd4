package release_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/publish/storage"
)

func TestWriteFlipCurrent(t *testing.T) {
	ctx := context.Background()
	st, err := storage.Open(ctx, "file://"+filepath.Join(t.TempDir(), "a"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, _, err := release.Current(ctx, st, "prod"); !errors.Is(err, release.ErrNone) {
		t.Fatalf("before any publish: %v, want ErrNone", err)
	}
	rel := &release.Release{Version: release.Version, Env: "prod", Revision: 3, PublishedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Charts: map[string]release.Chart{"sales/total": {Hash: "h", Default: "k", States: map[string]release.Data{"k": {JSON: "blobs/aa/b", Rows: 1}}}}}
	blob, err := release.Write(ctx, st, rel)
	if err != nil {
		t.Fatal(err)
	}
	// Written but not flipped: readers still see no release.
	if _, _, err := release.Current(ctx, st, "prod"); !errors.Is(err, release.ErrNone) {
		t.Fatalf("before the flip: %v, want ErrNone", err)
	}
	if err := release.Flip(ctx, st, "prod", release.Pointer{Release: blob.Key, Revision: 3}); err != nil {
		t.Fatal(err)
	}
	got, p, err := release.Current(ctx, st, "prod")
	if err != nil {
		t.Fatal(err)
	}
	if p.Revision != 3 || got.Charts["sales/total"].States["k"].JSON != "blobs/aa/b" {
		t.Errorf("read back %+v at %+v", got, p)
	}
	// A release of another format is refused, not misread.
	bad, err := st.PutBlob(ctx, bytes.NewReader([]byte(`{"version": 99, "env": "prod"}`)))
	if err != nil {
		t.Fatal(err)
	}
	if err := release.Flip(ctx, st, "prod", release.Pointer{Release: bad.Key, Revision: 4}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := release.Current(ctx, st, "prod"); err == nil {
		t.Error("a release of format 99 was read")
	}
}
