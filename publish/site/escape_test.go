package site

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

const evil = `<script>alert(1)</script>`

var dataScript = regexp.MustCompile(`<script type="application/json" class="bic-data">([^<]*)</script>`)

// TestEscaping puts a script element in every text a page shows: titles,
// descriptions, labels, filter values and data values.
func TestEscaping(t *testing.T) {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	dataset := `dataset: orders
table: orders
dimensions:
  channel: {type: string, label: ` + q(evil) + `}
metrics:
  orders: {expr: count(*), label: ` + q(evil+"&") + `}
`
	dashboard := `dashboard: tiny
title: ` + q(evil) + `
description: ` + q("</SCRIPT ><!-- "+evil) + `
filters:
  - {name: channel, label: ` + q(evil) + `, dataset: orders, dimension: channel, type: select, values: [` + q(evil) + `, web]}
  - {name: other, dataset: orders, dimension: channel, type: multi_select}
charts:
  - {name: t, title: ` + q(evil) + `, description: ` + q(evil) + `, type: table, dataset: orders, metrics: [orders], dimensions: [channel]}
  - {name: b, title: ` + q(evil) + `, type: bar, dataset: orders, metrics: [orders], x: channel}
`
	m := compileProject(t, fstest.MapFS{
		"bic.yaml":             {Data: []byte(tinyProject)},
		"datasets/orders.yaml": {Data: []byte(dataset)},
		"dashboards/tiny.yaml": {Data: []byte(dashboard)},
	})
	blob := []byte(`{"columns":[{"name":"channel","type":"string"},{"name":"orders","type":"integer"}],"rows":[[` + q(evil) + `,1],["a` + "\u2028" + `b</script><script>alert(2)</script>",2]]}`)
	data := map[string]ChartData{
		"t": {JSON: blob, CSVURL: "csv/t?x=" + evil},
		"b": {JSON: blob, CSVURL: "csv/b"},
	}
	page, err := RenderDashboard(m, "tiny", data, Options{
		Env:          evil,
		AssetsURL:    "assets/",
		FilterValues: map[string][]any{"other": {evil}},
		State:        map[string]any{"other": []any{evil}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := string(page)
	for _, bad := range []string{evil, "<script>alert", "</SCRIPT ><!--"} {
		if strings.Contains(s, bad) {
			i := strings.Index(s, bad)
			t.Errorf("page holds %q unescaped: …%s…", bad, s[max(0, i-80):min(len(s), i+80)])
		}
	}
	checkPage(t, page)
	for _, want := range []string{
		`<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>`,
		`<h2>&lt;script&gt;alert(1)&lt;/script&gt;</h2>`,
		`<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>`,
		`<option value="&lt;script&gt;alert(1)&lt;/script&gt;">`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	// The embedded JSON reads back as the values it was given.
	blobs := dataScript.FindAllStringSubmatch(s, -1)
	if len(blobs) != 2 {
		t.Fatalf("page has %d data scripts, want 2", len(blobs))
	}
	if strings.Contains(blobs[0][1], "\u2028") {
		t.Errorf("embedded JSON holds a raw U+2028, which ends a line in older JavaScript")
	}
	var got struct{ Rows [][]any }
	if err := json.Unmarshal([]byte(blobs[0][1]), &got); err != nil {
		t.Fatal(err)
	}
	if got.Rows[0][0] != evil || got.Rows[1][0] != "a\u2028b</script><script>alert(2)</script>" {
		t.Errorf("data read back as %q", got.Rows)
	}
	ss := specs(t, page)
	if label := ss[0].Columns["channel"].Label; label != evil {
		t.Errorf("spec label read back as %q", label)
	}
}

// TestRefusesInvalidData: data that is not JSON is an error, not a page
// with a broken script element.
func TestRefusesInvalidData(t *testing.T) {
	m := tinyManifest(t, "  - {name: c, type: bar, dataset: orders, metrics: [orders], x: channel}\n")
	_, err := RenderDashboard(m, "tiny", map[string]ChartData{"c": {JSON: []byte(`{"rows": [</script>`)}}, Options{})
	if err == nil {
		t.Fatal("no error for data that is not JSON")
	}
}
