package publish_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bic-dev/bic/publish"
	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/publish/storage"
)

// hours is a GC clock that many hours ahead of the storage's, so blobs
// written now are that old.
func hours(n int) func() time.Time {
	return func() time.Time { return time.Now().Add(time.Duration(n) * time.Hour) }
}

func putBlob(t *testing.T, st storage.Store, content string) storage.Blob {
	t.Helper()
	b, err := st.PutBlob(context.Background(), strings.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func exists(t *testing.T, st storage.Store, key string) bool {
	t.Helper()
	_, err := st.Stat(context.Background(), key)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

// TestGC: what gc keeps and removes, on each storage backend.
func TestGC(t *testing.T) {
	for _, c := range []struct {
		name string
		test func(t *testing.T, st storage.Store, meta *metadata.Store)
	}{
		{"keeps everything a live pointer reaches, past the retention", func(t *testing.T, st storage.Store, meta *metadata.Store) {
			_, rel := publishRevision(t, st, meta, "prod", shop(t, "Sales"), "1")
			p, _ := release.ReadPointer(context.Background(), st, "prod")
			rep := gc(t, st, meta, publish.GCOptions{Now: hours(24 * 60)})
			if m := missing(t, st, p.Release, rel); len(m) > 0 || len(rep.Removed) != 0 {
				t.Errorf("gc 60 days later removed %v of the live release (report %+v)", m, rep)
			}
			if recs, _ := release.History(context.Background(), st, "prod"); len(recs) != 1 {
				t.Errorf("gc removed the record of the live release: %v", recs)
			}
		}},
		{"keeps releases served within the retention, removes older ones in two runs", func(t *testing.T, st storage.Store, meta *metadata.Store) {
			ctx := context.Background()
			_, rel1 := publishRevision(t, st, meta, "prod", shop(t, "Sales"), "1")
			p1, _ := release.ReadPointer(ctx, st, "prod")
			publishRevision(t, st, meta, "prod", shop(t, "Sales 2"), "2")
			// Six days on, revision 1 served within the last week.
			gc(t, st, meta, publish.GCOptions{Now: hours(24 * 6)})
			if m := missing(t, st, p1.Release, rel1); len(m) > 0 {
				t.Fatalf("gc removed %v of a release replaced within the retention", m)
			}
			first := gc(t, st, meta, publish.GCOptions{Now: hours(24 * 8)})
			if len(first.Records) != 1 || len(first.Removed) != 0 {
				t.Errorf("first run past the retention: %+v, want revision 1's record removed and its blobs kept", first)
			}
			second := gc(t, st, meta, publish.GCOptions{Now: hours(24 * 8)})
			if m := missing(t, st, p1.Release, rel1); len(m) != len(rel1.Blobs())+1 {
				t.Errorf("second run left %d of revision 1's %d blobs", len(rel1.Blobs())+1-len(m), len(rel1.Blobs())+1)
			}
			if len(second.Removed) != len(rel1.Blobs())+1 {
				t.Errorf("second run removed %d blobs, want %d", len(second.Removed), len(rel1.Blobs())+1)
			}
		}},
		{"keeps a picture while its record is within the retention, then removes both in two runs", func(t *testing.T, st storage.Store, meta *metadata.Store) {
			ctx := context.Background()
			publishRevision(t, st, meta, "prod", shop(t, "Sales"), "1")
			thumb, img := putBlob(t, st, "a thumbnail drawn ahead of its publish"), putBlob(t, st, "an alert's picture")
			thumbRec, imgRec := release.RenderPrefix+"imagekey", release.ImagePrefix+img.Hash
			if err := release.WritePicture(ctx, st, thumbRec, release.Picture{PNG: thumb.Key}); err != nil {
				t.Fatal(err)
			}
			if err := release.WritePicture(ctx, st, imgRec, release.Picture{PNG: img.Key}); err != nil {
				t.Fatal(err)
			}
			// A record bic did not write keeps nothing, and stops nothing.
			if err := st.WritePointer(ctx, release.RenderPrefix+"forged", []byte(`{"png":"envs/prod/current"}`)); err != nil {
				t.Fatal(err)
			}
			gc(t, st, meta, publish.GCOptions{Now: hours(24 * 6)})
			if !exists(t, st, thumb.Key) || !exists(t, st, img.Key) {
				t.Fatal("gc removed a picture whose record is within the retention")
			}
			first := gc(t, st, meta, publish.GCOptions{Now: hours(24 * 8)})
			if exists(t, st, thumbRec) || exists(t, st, imgRec) || !exists(t, st, thumb.Key) || !exists(t, st, img.Key) {
				t.Errorf("first run past the retention: %+v, want the records removed and their pictures kept", first)
			}
			gc(t, st, meta, publish.GCOptions{Now: hours(24 * 8)})
			if exists(t, st, thumb.Key) || exists(t, st, img.Key) {
				t.Error("second run past the retention kept pictures that no record names")
			}
			if !exists(t, st, release.PointerKey("prod")) {
				t.Error("a forged picture record made gc touch a pointer")
			}
		}},
		{"removes an old unreferenced blob", func(t *testing.T, st storage.Store, meta *metadata.Store) {
			publishRevision(t, st, meta, "prod", shop(t, "Sales"), "1")
			orphan := putBlob(t, st, "nobody names me")
			rep := gc(t, st, meta, publish.GCOptions{Now: hours(2)})
			if exists(t, st, orphan.Key) || len(rep.Removed) != 1 || rep.Removed[0].Key != orphan.Key || rep.RemovedBytes != orphan.Size {
				t.Errorf("an unreferenced blob 2h old: report %+v", rep)
			}
		}},
		{"dry run removes nothing", func(t *testing.T, st storage.Store, meta *metadata.Store) {
			publishRevision(t, st, meta, "prod", shop(t, "Sales"), "1")
			publishRevision(t, st, meta, "prod", shop(t, "Sales 2"), "2")
			orphan := putBlob(t, st, "nobody names me")
			before := list(t, st)
			rep := gc(t, st, meta, publish.GCOptions{Now: hours(24 * 8), DryRun: true})
			if len(rep.Removed) != 1 || rep.Removed[0].Key != orphan.Key || len(rep.Records) != 1 {
				t.Errorf("dry run reports %+v, want the orphan and revision 1's record", rep)
			}
			if after := list(t, st); !slices.Equal(before, after) {
				t.Errorf("dry run changed storage:\n%v\n%v", before, after)
			}
		}},
		{"keeps a young unreferenced blob: a publish in progress loses nothing", func(t *testing.T, st storage.Store, meta *metadata.Store) {
			publishRevision(t, st, meta, "prod", shop(t, "Sales"), "1")
			rel := writeRelease(t, st, "prod", 2, shop(t, "Sales 2"), "2") // blobs written, no pointer yet
			rep := gc(t, st, meta, publish.GCOptions{})
			if len(rep.Removed) != 0 || rep.Young != len(rel.Blobs()) {
				t.Errorf("gc during a publish: report %+v, want %d young blobs kept", rep, len(rel.Blobs()))
			}
			key := flip(t, st, "prod", rel)
			if m := missing(t, st, key, rel); len(m) > 0 {
				t.Errorf("the release published after gc lacks %v", m)
			}
		}},
		{"a pointer that flips between mark and sweep keeps the new release", func(t *testing.T, st storage.Store, meta *metadata.Store) {
			publishRevision(t, st, meta, "prod", shop(t, "Sales"), "1")
			rel := writeRelease(t, st, "prod", 2, shop(t, "Sales 2"), "2")
			var key string
			hooked := &hookStore{Store: st, beforeBlobs: func() { key = flip(t, st, "prod", rel) }}
			rep := gc(t, hooked, meta, publish.GCOptions{Now: hours(2)})
			if key == "" {
				t.Fatal("the hook did not run")
			}
			if m := missing(t, st, key, rel); len(m) > 0 {
				t.Errorf("gc removed %v of the release flipped to during it (report %+v)", m, rep)
			}
		}},
		{"cache entries keep their blobs; old ones go, and their blobs on the next run", func(t *testing.T, st storage.Store, meta *metadata.Store) {
			ctx := context.Background()
			publishRevision(t, st, meta, "prod", shop(t, "Sales"), "1")
			fresh, stale := putBlob(t, st, `{"fresh": true}`), putBlob(t, st, `{"stale": true}`)
			for _, e := range []struct {
				key  string
				blob storage.Blob
				at   time.Time
			}{{"fresh-input", fresh, time.Now()}, {"stale-input", stale, time.Now().Add(-30 * 24 * time.Hour)}} {
				art := metadata.Artifact{ContentHash: e.blob.Hash, StorageKey: e.blob.Key, Size: e.blob.Size, Rows: 1}
				if err := meta.PutCacheEntry(ctx, metadata.CacheEntry{InputKey: e.key, JSONHash: e.blob.Hash, Rows: 1, ComputedAt: e.at}, art); err != nil {
					t.Fatal(err)
				}
			}
			rep := gc(t, st, meta, publish.GCOptions{Now: hours(2)})
			if !exists(t, st, fresh.Key) || !exists(t, st, stale.Key) || rep.CacheEntries != 1 {
				t.Fatalf("first run: fresh %v, stale %v, %d entries removed", exists(t, st, fresh.Key), exists(t, st, stale.Key), rep.CacheEntries)
			}
			if _, ok, _ := meta.CacheEntry(ctx, "stale-input"); ok {
				t.Error("the stale cache entry is still there")
			}
			gc(t, st, meta, publish.GCOptions{Now: hours(2)})
			if !exists(t, st, fresh.Key) || exists(t, st, stale.Key) {
				t.Errorf("second run: fresh %v (want kept), stale %v (want removed)", exists(t, st, fresh.Key), exists(t, st, stale.Key))
			}
		}},
		{"never touches keys outside blobs/ and envs/*/releases/", func(t *testing.T, st storage.Store, meta *metadata.Store) {
			ctx := context.Background()
			publishRevision(t, st, meta, "prod", shop(t, "Sales"), "1")
			publishRevision(t, st, meta, "prod", shop(t, "Sales 2"), "2")
			others := []string{"envs/prod/other", "envs/prod/releases-not", "exports/site/index.html", "blobsx/aa/bb", "thumbs/x.png"}
			for _, k := range others {
				if err := st.Put(ctx, k, strings.NewReader("keep me")); err != nil {
					t.Fatal(err)
				}
			}
			before := list(t, st)
			gc(t, st, meta, publish.GCOptions{Now: hours(24 * 30)})
			gc(t, st, meta, publish.GCOptions{Now: hours(24 * 30)})
			for _, k := range before {
				_, isRecord := release.ParseRecordKey(k)
				if !strings.HasPrefix(k, "blobs/") && !isRecord && !exists(t, st, k) {
					t.Errorf("gc removed %s", k)
				}
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			eachStore(t, func(t *testing.T, st storage.Store) {
				c.test(t, st, metaStore(t, "sqlite"))
			})
		})
	}
}

// TestGCRefusesAShortGrace: a grace period under MinGrace could remove
// the blobs of a publish in progress.
func TestGCRefusesAShortGrace(t *testing.T) {
	st := fileStore(t)
	orphan := putBlob(t, st, "x")
	if _, err := publish.GC(context.Background(), st, nil, publish.GCOptions{Grace: time.Minute, Now: hours(2)}); err == nil {
		t.Error("gc ran with a grace of 1m")
	}
	if !exists(t, st, orphan.Key) {
		t.Error("a refused gc removed a blob")
	}
}

func gc(t *testing.T, st storage.Store, meta *metadata.Store, opts publish.GCOptions) publish.GCReport {
	t.Helper()
	rep, err := publish.GC(context.Background(), st, meta, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func list(t *testing.T, st storage.Store) []string {
	t.Helper()
	infos, err := st.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, i := range infos {
		out = append(out, i.Key)
	}
	return out
}

// hookStore runs beforeBlobs once, when gc lists the blobs: between its
// mark and its sweep.
type hookStore struct {
	storage.Store
	once        sync.Once
	beforeBlobs func()
}

func (h *hookStore) List(ctx context.Context, prefix string) ([]storage.Info, error) {
	if prefix == "blobs/" {
		h.once.Do(h.beforeBlobs)
	}
	return h.Store.List(ctx, prefix)
}
