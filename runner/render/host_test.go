package render

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHost serves exactly what a page of the release loads, under a
// token that exists only while it is registered, and only to loopback.
func TestHost(t *testing.T) {
	f := newFixture(t, nil)
	h, err := newHost(t.Context(), f.store, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer h.close()
	s, err := newBundle(f.rel, "all", "")
	if err != nil {
		t.Fatal(err)
	}
	prefix, remove := h.register(s)
	path := strings.TrimPrefix(prefix, h.base())
	bar := f.rel.Charts["all/bar"].States["default"]
	other, _ := newBundle(f.rel, "gaps", "")
	tests := []struct {
		name, path, remote string
		status             int
		ctype, contains    string
	}{
		{"Page", "e/prod/d/all", "", 200, "text/html; charset=utf-8", `id="chart-bar"`},
		{"Asset", "e/prod/assets/bic.js", "", 200, "text/javascript; charset=utf-8", "bicRendered"},
		{"Stylesheet", "e/prod/assets/bic.css", "", 200, "text/css; charset=utf-8", ".bic-grid"},
		{"NamedBlob", "e/prod/" + bar.CSV, "", 200, "", "a,b"},
		{"ChartAPI", "e/prod/api/charts/all/bar", "", 200, "application/json", `"columns"`},
		{"ChartAPIState", "e/prod/api/charts/all/bar?channel=web", "", 404, "", ""},
		{"OtherDashboardsPage", "e/prod/d/gaps", "", 404, "", ""},
		{"OtherDashboardsAPI", "e/prod/api/charts/gaps/fine", "", 404, "", ""},
		{"UnnamedBlob", "e/prod/blobs/00/" + strings.Repeat("0", 62), "", 404, "", ""},
		{"PageAsBlobElsewhere", "e/prod/blobs/" + strings.TrimPrefix(other.page, "blobs/"), "", 200, "", ""},
		{"UnknownAsset", "e/prod/assets/nope.js", "", 404, "", ""},
		{"OtherEnv", "e/dev/d/all", "", 404, "", ""},
		{"CSVRoute", "e/prod/csv/all/bar", "", 404, "", ""},
		{"Outside", "etc/passwd", "", 404, "", ""},
		{"NotLoopback", "e/prod/d/all", "10.1.2.3:5555", 403, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, path+tt.path, nil)
			req.RemoteAddr = "127.0.0.1:40000"
			if tt.remote != "" {
				req.RemoteAddr = tt.remote
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			body, _ := io.ReadAll(w.Body)
			if w.Code != tt.status {
				t.Fatalf("GET %s: status %d, want %d: %s", tt.path, w.Code, tt.status, body)
			}
			if tt.ctype != "" && w.Header().Get("Content-Type") != tt.ctype {
				t.Errorf("Content-Type %q, want %q", w.Header().Get("Content-Type"), tt.ctype)
			}
			if !strings.Contains(string(body), tt.contains) {
				t.Errorf("body lacks %q", tt.contains)
			}
		})
	}
	// Over the real listener, then once the render is over.
	resp, err := http.Get(prefix + "e/prod/d/all")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET the page over loopback: %d", resp.StatusCode)
	}
	remove()
	resp, err = http.Get(prefix + "e/prod/d/all")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("GET the page after its render: %d, want 404", resp.StatusCode)
	}
}

// TestNewBundleStatePage: a state page of the dashboard is served in its
// default page's place; a page of another dashboard is refused.
func TestNewBundleStatePage(t *testing.T) {
	f := newFixture(t, nil)
	d := f.rel.Dashboards["all"]
	d.StatePages = map[string]string{"k": f.rel.Dashboards["gaps"].Page}
	f.rel.Dashboards["all"] = d
	s, err := newBundle(f.rel, "all", d.StatePages["k"])
	if err != nil {
		t.Fatal(err)
	}
	if s.page != d.StatePages["k"] {
		t.Errorf("page %s, want the state page", s.page)
	}
	if _, err := newBundle(f.rel, "gaps", d.Page); err == nil {
		t.Error("the page of dashboard all was accepted for gaps")
	}
}
