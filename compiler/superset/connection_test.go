package superset_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

// TestConnections: each database becomes a connection that validates;
// passwords are never written, and a database bic does not support is a
// placeholder with a warning.
func TestConnections(t *testing.T) {
	for _, c := range []struct {
		uri, want, warn string
	}{
		{"postgresql://bi:hunter2@db.example.com:6543/shop?sslmode=verify-full", "password: \"${env:DB_PASSWORD}\"", ""},
		{"postgresql+psycopg2://bi:XXXXXXXXXX@db/shop", "host: db", ""},
		{"redshift+psycopg2://bi:hunter2@cluster.example.com:5439/dev", "type: postgres", "speaks the PostgreSQL protocol"},
		{"cockroachdb://root@crdb:26257/defaultdb", "port: 26257", "speaks the PostgreSQL protocol"},
		{"duckdb:///data/local.duckdb", "path: data/local.duckdb", ""},
		{"snowflake://BI:hunter2@acct-1/DB/SCHEMA?warehouse=WH", "account: acct-1", ""},
		{"bigquery://my-project/my_dataset", "credentials_json: \"${env:DB_CREDENTIALS}\"", "does not export BigQuery credentials"},
		{"mysql://root:hunter2@localhost/app", "url: \"${env:DB_URL}\"", "bic does not support mysql"},
		{"sqlite:////tmp/superset.db", "url: \"${env:DB_URL}\"", "bic does not support sqlite"},
		{"mssql+pyodbc://sa:hunter2@sqlserver/app", "TODO: bic cannot query mssql", "bic does not support mssql"},
		{"::not a uri", "url: \"${env:DB_URL}\"", "bic does not support an unreadable URI"},
	} {
		t.Run(c.uri, func(t *testing.T) {
			fsys := fstest.MapFS{
				"metadata.yaml":     {Data: []byte("version: 1.0.0\ntype: Database\n")},
				"databases/db.yaml": {Data: []byte(fmt.Sprintf("database_name: db\nsqlalchemy_uri: %q\nuuid: d1\n", c.uri))},
				"datasets/db/t.yaml": {Data: []byte("table_name: t\nuuid: t1\ndatabase_uuid: d1\n" +
					"columns:\n- {column_name: day, is_dttm: true}\nmetrics:\n- {metric_name: count, expression: count(*)}\n")},
				"charts/c.yaml": {Data: []byte("slice_name: Count\nviz_type: big_number_total\nuuid: c1\ndataset_uuid: t1\nparams: {metric: count}\n")},
			}
			res := importFS(t, fsys)
			compile(t, res)
			var all bytes.Buffer
			for _, b := range res.Files {
				all.Write(b)
			}
			if strings.Contains(all.String(), "hunter2") || strings.Contains(all.String(), "XXXXXXXXXX") {
				t.Fatalf("a password was written:\n%s", res.Files["bic.yaml"])
			}
			if !strings.Contains(string(res.Files["bic.yaml"]), c.want) {
				t.Errorf("bic.yaml lacks %q:\n%s", c.want, res.Files["bic.yaml"])
			}
			warned := warningsText(res.Warnings)
			if c.warn == "" && warned != "" || !strings.Contains(warned, c.warn) {
				t.Errorf("warnings %q, want %q", warned, c.warn)
			}
		})
	}
}
