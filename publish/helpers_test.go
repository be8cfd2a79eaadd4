package publish_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/publish"
	"github.com/bic-dev/bic/publish/metadata"
	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/publish/storage"
	"github.com/bic-dev/bic/runner/servicetest"
	"github.com/bic-dev/bic/runner/servicetest/storetest"
)

// metaStore opens a fresh metadata database: SQLite in a temporary
// folder, or a new schema of BIC_TEST_POSTGRES_URL's PostgreSQL (which
// skips locally without it and fails under CI=true).
func metaStore(t *testing.T, kind string) *metadata.Store {
	t.Helper()
	ctx := context.Background()
	if kind == "sqlite" {
		st, err := metadata.Open(ctx, "sqlite://meta.db", t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	base := servicetest.Postgres(t)
	schema := fmt.Sprintf("bic_publish_test_%d", time.Now().UnixNano())
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	st, err := metadata.Open(ctx, base+sep+"search_path="+schema, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		st.Close()
		admin.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE")
		admin.Close()
	})
	return st
}

// publishRevision applies m to env as a new revision and publishes it the
// way a runner would, without one: a data blob per chart (its content
// unique to env, revision and tag), the release, the flip, and then every
// job completed, so the revision is live. It returns the revision's
// number and the release.
func publishRevision(t *testing.T, st storage.Store, meta *metadata.Store, env string, m *compiler.Manifest, tag string) (int, *release.Release) {
	t.Helper()
	ctx := context.Background()
	p, err := publish.Plan(ctx, meta, m, env, "")
	if err != nil {
		t.Fatal(err)
	}
	rev, err := meta.Apply(ctx, metadata.ApplyRequest{Env: env, Plan: p, Manifest: m, AppliedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	rel := writeRelease(t, st, env, rev.Number, m, tag)
	flip(t, st, env, rel)
	for {
		jobs, err := meta.Claim(ctx, 100, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) == 0 {
			break
		}
		for _, j := range jobs {
			if err := meta.MarkRunning(ctx, j.ID); err != nil {
				t.Fatal(err)
			}
			if err := meta.Complete(ctx, j.ID, metadata.JobResult{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if e, err := meta.Environment(ctx, env); err != nil || e.Live != rev.Number {
		t.Fatalf("%s after publishing revision %d: %+v, %v", env, rev.Number, e, err)
	}
	return rev.Number, rel
}

// writeRelease writes the blobs and the release of revision number of
// env, without the release document or the pointer: a publish in
// progress.
func writeRelease(t *testing.T, st storage.Store, env string, number int, m *compiler.Manifest, tag string) *release.Release {
	t.Helper()
	ctx := context.Background()
	put := func(content string) string {
		b, err := st.PutBlob(ctx, strings.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		return b.Key
	}
	rel := &release.Release{Version: release.Version, Env: env, Revision: number, ManifestHash: m.Hash,
		PublishedAt: time.Now().UTC(), Charts: map[string]release.Chart{}, Dashboards: map[string]release.Dashboard{},
		Assets: map[string]string{"bic.js": put("bic.js " + tag)}}
	for _, co := range m.Charts {
		ref := compiler.ChartID(co.Dashboard, co.Spec.Name).Name()
		rel.Charts[ref] = release.Chart{Hash: co.Hash, Default: "k", States: map[string]release.Data{"k": {
			JSON: put(fmt.Sprintf(`{"chart": %q, "env": %q, "revision": %d, "tag": %q}`, ref, env, number, tag)),
			CSV:  put(fmt.Sprintf("chart,env,revision,tag\n%s,%s,%d,%s\n", ref, env, number, tag)),
			Rows: 1, ComputedAt: time.Now().UTC()}}}
		d := rel.Dashboards[co.Dashboard]
		d.Charts = append(d.Charts, ref)
		d.Page = put(fmt.Sprintf("<html>%s %s %d %s</html>", co.Dashboard, env, number, tag))
		rel.Dashboards[co.Dashboard] = d
	}
	return rel
}

// flip writes rel as a release and points env at it.
func flip(t *testing.T, st storage.Store, env string, rel *release.Release) string {
	t.Helper()
	ctx := context.Background()
	blob, err := release.Write(ctx, st, rel)
	if err != nil {
		t.Fatal(err)
	}
	if err := release.Flip(ctx, st, env, release.Pointer{Release: blob.Key, Revision: rel.Revision}); err != nil {
		t.Fatal(err)
	}
	return blob.Key
}

// missing lists the blobs of rel (and rel's own key) that storage lacks.
func missing(t *testing.T, st storage.Store, key string, rel *release.Release) []string {
	t.Helper()
	var out []string
	for _, k := range append(rel.Blobs(), key) {
		if _, err := st.Stat(context.Background(), k); err != nil {
			out = append(out, k)
		}
	}
	return out
}

// eachStore runs test on a file store in a fresh directory and on the S3
// server of BIC_TEST_S3_URL under a fresh prefix.
func eachStore(t *testing.T, test func(t *testing.T, st storage.Store)) {
	t.Helper()
	storetest.EachStore(t, "publish-test", test)
}

func fileStore(t *testing.T) storage.Store { return storetest.FileStore(t) }

// eachStoreAndDB runs test on every pair of a storage backend (file, S3)
// and a metadata database (SQLite, PostgreSQL).
func eachStoreAndDB(t *testing.T, test func(t *testing.T, st storage.Store, meta *metadata.Store)) {
	t.Helper()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			eachStore(t, func(t *testing.T, st storage.Store) {
				test(t, st, metaStore(t, db))
			})
		})
	}
}
