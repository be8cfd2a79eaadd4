package duckdb

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/runner/warehouse"
)

// CSV columns of plain decimal numbers are read as DECIMAL with the file's
// decimal places, found in every row rather than the sniffer's sample, so
// sums of money are exact; other columns keep the sniffer's types.
func TestCSVDecimals(t *testing.T) {
	dir := t.TempDir()
	csv := "id,price,rate,science,big,huge,late\n" +
		"1,31.99,0.5,1.5,123456789012345678.5,1234567890123456789012345678901234567.89,1.5\n" +
		"2,0.01,-2,2e3,1.25,1,2\n"
	// A value with more decimal places far below the sniffer's sample.
	csv += strings.Repeat("3,1.10,1.5,1.5,1.5,1.5,1.5\n", 30000)
	csv += "4,2.00,1.5,1.5,1.5,1.5,0.125\n"
	if err := os.WriteFile(filepath.Join(dir, "prices.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Open(context.Background(), compiler.Connection{Name: "test", Type: "duckdb", Files: map[string]string{"prices": "prices.csv"}}, warehouse.Options{ProjectDir: dir, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rows, err := c.DB().Query("SELECT column_name, column_type FROM (DESCRIBE prices)")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			t.Fatal(err)
		}
		got[name] = typ
	}
	rows.Close()
	want := map[string]string{
		"id":      "BIGINT",
		"price":   "DECIMAL(18,2)",
		"rate":    "DECIMAL(18,1)",
		"science": "DOUBLE",        // 2e3 is not a plain decimal
		"big":     "DECIMAL(38,2)", // 18 digits before the point, 2 after
		"huge":    "DOUBLE",        // 39 digits
		"late":    "DECIMAL(18,3)", // 0.125 in the last row
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("column types (-want +got):\n%s", diff)
	}
	r, err := c.Query(context.Background(), "SELECT sum(price) AS total, sum(late) AS late FROM prices WHERE id <> 3", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !r.Next() {
		t.Fatal(r.Err())
	}
	if diff := cmp.Diff([]any{warehouse.Decimal("34"), warehouse.Decimal("3.625")}, r.Values()); diff != "" {
		t.Errorf("sums (-want +got):\n%s", diff)
	}
}
