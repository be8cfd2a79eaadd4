package superset_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/bic-dev/bic/compiler/superset"
)

var uuidRe = regexp.MustCompile(`(?m)^uuid: (\S+)`)

// dashboardExport is the examples' export cut down to one dashboard: its
// file, the charts it shows, and every database and dataset.
func dashboardExport(b *testing.B, file string) fstest.MapFS {
	b.Helper()
	full := os.DirFS(examplesDir(b))
	all := fstest.MapFS{}
	dash, err := os.ReadFile(path.Join(examplesDir(b), "dashboards", file))
	if err != nil {
		b.Fatal(err)
	}
	for _, pattern := range []string{"metadata.yaml", "databases/*.yaml", "datasets/*/*.yaml", "charts/*.yaml"} {
		names, _ := fs.Glob(full, pattern)
		for _, n := range names {
			data, err := os.ReadFile(path.Join(examplesDir(b), n))
			if err != nil {
				b.Fatal(err)
			}
			if strings.HasPrefix(n, "charts/") {
				m := uuidRe.FindSubmatch(data)
				if m == nil || !bytes.Contains(dash, m[1]) {
					continue
				}
			}
			all[n] = &fstest.MapFile{Data: data}
		}
	}
	all["dashboards/"+file] = &fstest.MapFile{Data: dash}
	return all
}

// BenchmarkImport measures an import of each example dashboard, and of
// the whole export from its folder and from a ZIP (opening and checking
// the archive included). It reports the charts translated and warned.
//
//	go test ./compiler/superset -run '^$' -bench Import -benchmem
func BenchmarkImport(b *testing.B) {
	for _, c := range []struct{ name, file string }{{"sales", "Sales_Dashboard.yaml"}, {"slack", "Slack_Dashboard.yaml"}} {
		b.Run(c.name, func(b *testing.B) {
			fsys := dashboardExport(b, c.file)
			var res *superset.Result
			for b.Loop() {
				var err error
				if res, err = superset.Import(context.Background(), fsys, superset.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			s := res.Dashboards[0]
			b.ReportMetric(float64(s.Translated), "translated")
			b.ReportMetric(float64(s.Warned), "warned")
		})
	}
	b.Run("folder", func(b *testing.B) {
		fsys := os.DirFS(examplesDir(b))
		for b.Loop() {
			if _, err := superset.Import(context.Background(), fsys, superset.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("zip", func(b *testing.B) {
		z := zipOf(b, examplesDir(b), "export/")
		for b.Loop() {
			zfs, err := superset.OpenZip(bytes.NewReader(z), int64(len(z)), superset.DefaultLimits())
			if err != nil {
				b.Fatal(err)
			}
			if _, err := superset.Import(context.Background(), zfs, superset.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
