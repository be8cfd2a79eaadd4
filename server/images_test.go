package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bic-dev/bic/publish/access"
	"github.com/bic-dev/bic/publish/release"
	"github.com/bic-dev/bic/publish/storage"
)

// TestImageLinks: /images/ serves exactly the blob a link was signed for,
// until it expires, with the server's secret, under either auth mode;
// every other request is the same 404, whether the blob exists or not.
func TestImageLinks(t *testing.T) {
	secret := []byte("a secret the runners share")
	st := fileStore(t)
	png := []byte("\x89PNG\r\n\x1a\nnot really a picture")
	key := put(t, st, png)
	other := put(t, st, []byte("another blob"))
	hash := strings.ReplaceAll(strings.TrimPrefix(key, "blobs/"), "/", "")
	otherHash := strings.ReplaceAll(strings.TrimPrefix(other, "blobs/"), "/", "")
	if storage.BlobKey(hash) != key {
		t.Fatalf("hash %s does not lead back to %s", hash, key)
	}
	now := time.Now()
	link := func(secret []byte, h string, exp time.Time) string {
		return access.ImagePath(h) + "?" + access.SignImage(secret, h, exp)
	}
	valid := link(secret, hash, now.Add(time.Hour))
	u, _ := url.Parse(valid)
	q := u.Query()
	sig := q.Get("sig")
	flipped := []byte(sig)
	flipped[3] ^= 1
	cases := []struct {
		name string
		path string
		want int
	}{
		{"signed", valid, 200},
		{"expired", link(secret, hash, now.Add(-time.Second)), 404},
		{"another secret", link([]byte("not the secret"), hash, now.Add(time.Hour)), 404},
		{"signed for another blob", access.ImagePath(otherHash) + "?" + q.Encode(), 404},
		{"a later expiry than signed", access.ImagePath(hash) + "?exp=" + url.QueryEscape("9999999999") + "&sig=" + sig, 404},
		{"a changed signature", access.ImagePath(hash) + "?exp=" + q.Get("exp") + "&sig=" + string(flipped), 404},
		{"no signature", access.ImagePath(hash), 404},
		{"not a hash", "/images/../blobs.png?" + q.Encode(), 404},
		{"no .png", "/images/" + hash + "?" + q.Encode(), 404},
		{"a blob that is not there", link(secret, strings.Repeat("0", 64), now.Add(time.Hour)), 404},
	}
	for _, auth := range []Auth{AuthNone, AuthToken} {
		srv := New(Options{Storage: st, ImageSecret: secret, Auth: auth})
		for _, c := range cases {
			t.Run(fmt.Sprint(auth)+"/"+c.name, func(t *testing.T) {
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, c.path, nil))
				if rec.Code != c.want {
					t.Fatalf("GET %s: %d, want %d: %s", c.path, rec.Code, c.want, rec.Body)
				}
				body, _ := io.ReadAll(rec.Body)
				if c.want == 200 {
					if string(body) != string(png) || rec.Header().Get("Content-Type") != "image/png" {
						t.Errorf("served %q as %s, want the PNG", body, rec.Header().Get("Content-Type"))
					}
					if cc := rec.Header().Get("Cache-Control"); !strings.HasPrefix(cc, "private") {
						t.Errorf("Cache-Control %q, want private", cc)
					}
				}
			})
		}
	}
	// Without a secret the route is off, even for a link signed with none.
	srv := New(Options{Storage: st})
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, link(nil, hash, now.Add(time.Hour)), nil))
	if rec.Code != 404 {
		t.Errorf("without a secret: %d, want 404", rec.Code)
	}
}

// TestChartThumbnails: /e/ENV/thumbs/DASHBOARD/CHART.png serves the chart
// drawn alone, marks an earlier picture kept as stale, and is 404 for a
// chart without one.
func TestChartThumbnails(t *testing.T) {
	ctx := context.Background()
	st := fileStore(t)
	fresh, kept := put(t, st, []byte("\x89PNG fresh")), put(t, st, []byte("\x89PNG kept"))
	rel := &release.Release{Version: release.Version, Env: "prod", Revision: 3, Dashboards: map[string]release.Dashboard{
		"sales": {Title: "Sales", Page: put(t, st, []byte("<html>")), ChartThumbnails: map[string]release.Thumbnail{
			"total":  {PNG: fresh, Key: "k1"},
			"trends": {PNG: kept, Key: "k0", Stale: true},
		}},
	}}
	blob, err := release.Write(ctx, st, rel)
	if err != nil {
		t.Fatal(err)
	}
	if err := release.Flip(ctx, st, "prod", release.Pointer{Release: blob.Key, Revision: 3}); err != nil {
		t.Fatal(err)
	}
	srv := New(Options{Storage: st})
	for _, c := range []struct {
		path, body string
		code       int
		stale      bool
	}{
		{"/e/prod/thumbs/sales/total.png", "\x89PNG fresh", 200, false},
		{"/e/prod/thumbs/sales/trends.png", "\x89PNG kept", 200, true},
		{"/e/prod/thumbs/sales/other.png", "", 404, false},
		{"/e/prod/thumbs/nope/total.png", "", 404, false},
		{"/e/prod/thumbs/sales/total", "", 404, false},
	} {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, c.path, nil))
		if rec.Code != c.code || (c.code == 200 && rec.Body.String() != c.body) {
			t.Errorf("GET %s: %d %q, want %d %q", c.path, rec.Code, rec.Body, c.code, c.body)
		}
		if got := rec.Header().Get("X-Bic-Thumbnail-Stale") == "true"; got != c.stale {
			t.Errorf("GET %s: stale %v, want %v", c.path, got, c.stale)
		}
	}
}
