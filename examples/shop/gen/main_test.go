package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// committed is the data folder of the example, relative to this package.
const committed = "../data"

var tables = []struct {
	name     string
	header   string
	min, max int // row count, header excluded
	key      string
}{
	{"orders", "order_id,customer_id,ordered_at,status,channel,country,amount,discount,shipping_cost,items", 10000, 16000, "order_id"},
	{"order_items", "order_id,product_id,quantity,unit_price", 18000, 32000, ""},
	{"customers", "customer_id,signed_up_at,country,segment,acquisition_channel", 6000, 10000, "customer_id"},
	{"products", "product_id,name,category,brand,price,cost", 60, 150, "product_id"},
	{"web_sessions", "session_id,started_at,customer_id,device,source,country,pageviews,duration_seconds,converted,funnel_stage", 15000, 26000, "session_id"},
}

// TestCommittedDataIsCurrent fails when the CSV files in examples/shop/data
// differ from what the generator writes: regenerate them from the
// repository root with `go run ./examples/shop/gen -out examples/shop/data`.
func TestCommittedDataIsCurrent(t *testing.T) {
	dir := t.TempDir()
	if err := run(dir); err != nil {
		t.Fatal(err)
	}
	written, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
	if len(written) != len(tables) {
		t.Errorf("the generator wrote %d files, want %d", len(written), len(tables))
	}
	total := 0
	for _, tc := range tables {
		got, err := os.ReadFile(filepath.Join(dir, tc.name+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		total += len(got)
		want, err := os.ReadFile(filepath.Join(committed, tc.name+".csv"))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s.csv differs from the generator's output (first difference at byte %d): run `go run ./examples/shop/gen -out examples/shop/data` from the repository root", tc.name, firstDiff(got, want))
		}
	}
	if total < 2<<20 || total > 5<<20 {
		t.Errorf("the data is %d bytes, want 2 to 5 MiB", total)
	}
}

func TestTables(t *testing.T) {
	data := map[string][][]string{}
	for _, tab := range generate() {
		data[tab.name] = append([][]string{tab.header}, tab.rows...)
	}
	ids := map[string]map[string]bool{}
	for _, tc := range tables {
		t.Run(tc.name, func(t *testing.T) {
			f, err := os.Open(filepath.Join(committed, tc.name+".csv"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rows, err := csv.NewReader(f).ReadAll() // also checks every row has as many fields as the header
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(rows[0], ","); got != tc.header {
				t.Errorf("header %q, want %q", got, tc.header)
			}
			if n := len(rows) - 1; n < tc.min || n > tc.max {
				t.Errorf("%d rows, want %d to %d", n, tc.min, tc.max)
			}
			if len(data[tc.name]) != len(rows) {
				t.Errorf("generate() made %d rows, the file has %d", len(data[tc.name]), len(rows))
			}
			col := map[string]int{}
			for i, name := range rows[0] {
				col[name] = i
			}
			if tc.key != "" {
				seen := map[string]bool{}
				for _, r := range rows[1:] {
					if k := r[col[tc.key]]; seen[k] {
						t.Errorf("duplicate %s %s", tc.key, k)
					} else {
						seen[k] = true
					}
				}
				ids[tc.key] = seen
			}
			for _, r := range rows[1:] {
				for _, c := range []string{"ordered_at", "signed_up_at", "started_at"} {
					if i, ok := col[c]; ok {
						at, err := time.Parse(time.DateTime, r[i])
						if err != nil || at.Year() < 2024 || at.Year() > 2025 {
							t.Fatalf("%s %q: want a time in 2024 or 2025 such as 2024-03-05 14:22:10", c, r[i])
						}
					}
				}
			}
		})
	}
	// References between tables hold, now that every table's keys are known.
	refs := []struct{ table, column, key string }{
		{"orders", "customer_id", "customer_id"},
		{"order_items", "order_id", "order_id"},
		{"order_items", "product_id", "product_id"},
		{"web_sessions", "customer_id", "customer_id"},
	}
	for _, ref := range refs {
		rows := data[ref.table]
		i := indexOf(rows[0], ref.column)
		for _, r := range rows[1:] {
			if r[i] != "" && !ids[ref.key][r[i]] {
				t.Errorf("%s.%s %s names no row of its table", ref.table, ref.column, r[i])
				break
			}
		}
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
