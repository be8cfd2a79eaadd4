package server

import (
	"strings"
	"testing"
	"time"

	"github.com/bic-dev/bic/publish/storage"
)

// TestStatePages: a dashboard's URL with the query of a precomputed state
// serves that state's page, drawn whole; any other query, or one that
// does not parse, serves the default page (whose script asks the API and
// says what went wrong). Chart data says when it goes stale.
func TestStatePages(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Store) {
		f := publish(t, st, "prod", 1, "Sales")
		srv := New(Options{Storage: st})
		for _, c := range []struct {
			name, query string
			want        string
		}{
			{"no query", "", string(f.page)},
			{"a precomputed state", "?region=EU", f.euPage},
			{"the same state as a page writes it", "?region=EU&country=&price=&period=last_30_days&paid=", f.euPage},
			{"a state that was not precomputed", "?region=US", string(f.page)},
			{"a query that does not parse", "?price=10", string(f.page)},
			{"an unknown filter", "?colour=red", string(f.page)},
		} {
			t.Run(c.name, func(t *testing.T) {
				w := do(t, srv, "GET", "/e/prod/d/sales"+c.query)
				if w.Code != 200 || w.Body.String() != c.want {
					t.Errorf("GET /e/prod/d/sales%s: %d %.60q, want 200 %.60q", c.query, w.Code, w.Body, c.want)
				}
			})
		}
		// The state's page is a blob its release names.
		if w := do(t, srv, "GET", "/e/prod/"+f.euPageKey); w.Code != 200 || w.Body.String() != f.euPage {
			t.Errorf("GET /e/prod/%s: %d, want the page", f.euPageKey, w.Code)
		}
		w := do(t, srv, "GET", "/e/prod/api/charts/sales/revenue?region=EU")
		if got := w.Header().Get("X-Bic-Stale-At"); got != f.euStaleAt.Format(time.RFC3339) {
			t.Errorf("X-Bic-Stale-At = %q, want %s", got, f.euStaleAt.Format(time.RFC3339))
		}
		if w := do(t, srv, "GET", "/e/prod/api/charts/sales/revenue"); w.Header().Get("X-Bic-Stale-At") != "" {
			t.Error("data without a refresh schedule says when it goes stale")
		}
	})
}

// TestThumbnails: /e/ENV/thumbs/DASHBOARD.png serves the image the release
// names, saying when it is an earlier release's; the index shows it; any
// other name is a 404.
func TestThumbnails(t *testing.T) {
	eachStore(t, func(t *testing.T, st storage.Store) {
		f := publish(t, st, "prod", 1, "Sales")
		srv := New(Options{Storage: st})
		w := do(t, srv, "GET", "/e/prod/thumbs/sales.png")
		if w.Code != 200 || w.Body.String() != f.thumb || w.Header().Get("Content-Type") != "image/png" {
			t.Fatalf("GET the thumbnail: %d %s %q", w.Code, w.Header().Get("Content-Type"), w.Body)
		}
		if w.Header().Get("X-Bic-Thumbnail-Stale") != "true" {
			t.Error("a thumbnail kept from an earlier release is not marked")
		}
		if w := do(t, srv, "GET", "/e/prod/thumbs/sales.png", "If-None-Match", w.Header().Get("ETag")); w.Code != 304 {
			t.Errorf("a known thumbnail: %d, want 304", w.Code)
		}
		for _, path := range []string{"/e/prod/thumbs/other.png", "/e/prod/thumbs/sales", "/e/prod/thumbs/sales.jpg", "/e/prod/thumbs/..%2fsales.png", "/e/none/thumbs/sales.png"} {
			if w := do(t, srv, "GET", path); w.Code != 404 {
				t.Errorf("GET %s: %d, want 404", path, w.Code)
			}
		}
		if w := do(t, srv, "GET", "/"); !strings.Contains(w.Body.String(), `<img src="e/prod/thumbs/sales.png"`) {
			t.Errorf("the index does not show the thumbnail:\n%s", w.Body)
		}
	})
}
