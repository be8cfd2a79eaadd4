package site

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./publish/site -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (-want +got):\n%s", path, cmp.Diff(string(want), string(got)))
	}
}

// TestShopPages renders examples/shop's dashboards with small fixed data.
func TestShopPages(t *testing.T) {
	m := compileShop(t)
	tests := []struct {
		dashboard string
		opts      Options
	}{
		{"sales", Options{Env: "prod", AssetsURL: "../../assets/", APIURL: "../api/charts/"}},
		{"marketing", Options{Env: "prod", AssetsURL: "../../assets/", APIURL: "../api/charts/",
			FilterValues: map[string][]any{"source": {"search", "social", "email"}}}},
		{"customers", Options{Env: "pr-7", AssetsURL: "../../assets/",
			FilterValues: map[string][]any{"acquisition_channel": {"ads", "organic"}},
			State:        map[string]any{"segment": []any{"vip"}, "signed_up": "2025-01-01..2025-06-30", "acquisition_channel": "ads"}}},
	}
	for _, tt := range tests {
		t.Run(tt.dashboard, func(t *testing.T) {
			got, err := RenderDashboard(m, tt.dashboard, fixtureData(t, m, tt.dashboard), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "shop_"+tt.dashboard+".html", got)
			checkPage(t, got)
		})
	}
}
