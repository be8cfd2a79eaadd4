package server

import (
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
