package superset_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/bic-dev/bic/compiler/superset"
)

// FuzzImport: whatever a chart, dataset or dashboard file holds, the
// import returns a result or an error, never a panic, what it returns
// validates, and no password is written.
//
//	go test ./compiler/superset -run '^$' -fuzz FuzzImport -fuzztime 60s
func FuzzImport(f *testing.F) {
	a, err := txtar.ParseFile("testdata/legacy.txtar")
	if err != nil {
		f.Fatal(err)
	}
	base := fstest.MapFS{}
	for _, file := range a.Files {
		base[file.Name] = &fstest.MapFile{Data: file.Data}
	}
	targets := []string{"charts/Orders_by_country.yaml", "datasets/Shop/orders.yaml", "dashboards/Shop_overview.yaml", "databases/Shop.yaml"}
	for i, t := range targets {
		f.Add(uint8(i), string(base[t].Data))
	}
	f.Add(uint8(0), "viz_type: pie\nparams: {metric: [1, {x: 2}], groupby: {a: b}}\ndataset_uuid: 22222222-0000-0000-0000-000000000001\nuuid: 33333333-0000-0000-0000-000000000002\n")
	f.Add(uint8(2), "position: {ROOT_ID: {type: ROOT, children: [ROOT_ID, X]}, X: {type: ROW, children: [X]}}\nuuid: u\n")
	f.Fuzz(func(t *testing.T, target uint8, content string) {
		fsys := fstest.MapFS{}
		for k, v := range base {
			fsys[k] = v
		}
		name := targets[int(target)%len(targets)]
		fsys[name] = &fstest.MapFile{Data: []byte(content)}
		res, err := superset.Import(context.Background(), fsys, superset.Options{})
		if err != nil {
			return
		}
		// The compiler refuses a password that is not a ${env:…}
		// reference; a masked one must not survive in a description.
		if strings.Contains(string(res.Files["bic.yaml"]), ":XXXXXXXXXX@") {
			t.Fatal("a masked password was written")
		}
		compile(t, res)
	})
}
