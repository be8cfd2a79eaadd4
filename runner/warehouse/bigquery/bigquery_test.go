package bigquery

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/api/option"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/runner/warehouse"
)

func serviceAccountJSON(t *testing.T) string {
	t.Helper()
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	b, _ := json.Marshal(map[string]string{
		"type":         "service_account",
		"project_id":   "shop-analytics",
		"client_email": "bic@shop-analytics.iam.gserviceaccount.com",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"token_uri":    "https://oauth2.googleapis.com/token",
	})
	return string(b)
}

func TestClientOptions(t *testing.T) {
	dir := t.TempDir()
	sa := serviceAccountJSON(t)
	os.WriteFile(filepath.Join(dir, "sa.json"), []byte(sa), 0o600)
	os.WriteFile(filepath.Join(dir, "user.json"), []byte(`{"type": "authorized_user"}`), 0o600)
	os.WriteFile(filepath.Join(dir, "broken.json"), []byte(`{"type": `), 0o600)
	env := map[string]string{"BQ_KEY": sa}
	opts := warehouse.Options{ProjectDir: dir, Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	base := compiler.Connection{Name: "bq", Type: "bigquery", Project: "shop-analytics", Dataset: "shop", Location: "EU"}
	with := func(f func(*compiler.Connection)) compiler.Connection { c := base; f(&c); return c }
	tests := []struct {
		name    string
		conn    compiler.Connection
		options int
		wantErr string
	}{
		{"application default credentials", base, 0, ""},
		{"key file", with(func(c *compiler.Connection) { c.CredentialsFile = "sa.json" }), 1, ""},
		{"key from a secret", with(func(c *compiler.Connection) { c.CredentialsJSON = "${env:BQ_KEY}" }), 1, ""},
		{"missing project", with(func(c *compiler.Connection) { c.Project = "" }), 0, "connection bq: bigquery needs project"},
		{"missing key file", with(func(c *compiler.Connection) { c.CredentialsFile = "nope.json" }), 0, "connection bq: credentials_file: open"},
		{"not a service account", with(func(c *compiler.Connection) { c.CredentialsFile = "user.json" }), 0, `expected a service account key ("type": "service_account"), found type "authorized_user"`},
		{"broken key file", with(func(c *compiler.Connection) { c.CredentialsFile = "broken.json" }), 0, "credentials_file broken.json: not a JSON credentials file"},
		{"unset secret", with(func(c *compiler.Connection) { c.CredentialsJSON = "${env:BQ_NOPE}" }), 0, "environment variable BQ_NOPE is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ClientOptions(tt.conn, opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, warehouse.ErrConfig) {
					t.Fatalf("err = %v, want ErrConfig with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(got) != tt.options {
				t.Fatalf("options = %d, %v; want %d", len(got), err, tt.options)
			}
		})
	}
}

// fakeBigQuery is a FAKE of BigQuery's REST API, not BigQuery: it answers
// jobs.query (the client's fast path) with a fixed result, and records the
// request so the test can check how parameters were sent.
type fakeBigQuery struct {
	mu      sync.Mutex
	request map[string]any
}

func (f *fakeBigQuery) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/projects/shop-analytics/queries") {
		http.Error(w, `{"error": {"code": 404, "message": "the fake serves jobs.query only: `+r.Method+" "+r.URL.Path+`"}}`, http.StatusNotFound)
		return
	}
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	json.Unmarshal(body, &f.request)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{
  "kind": "bigquery#queryResponse",
  "jobReference": {"projectId": "shop-analytics", "jobId": "job_1", "location": "EU"},
  "jobComplete": true,
  "totalRows": "2",
  "schema": {"fields": [
    {"name": "ordered_at", "type": "DATETIME"},
    {"name": "created", "type": "TIMESTAMP"},
    {"name": "day", "type": "DATE"},
    {"name": "country", "type": "STRING"},
    {"name": "orders", "type": "INTEGER"},
    {"name": "share", "type": "FLOAT"},
    {"name": "revenue", "type": "NUMERIC"},
    {"name": "paid", "type": "BOOLEAN"}
  ]},
  "rows": [
    {"f": [{"v": "2025-03-01T00:00:00"}, {"v": "1740826800000000"}, {"v": "2025-03-01"}, {"v": "DE"}, {"v": "42"}, {"v": "0.25"}, {"v": "12345678901234567890.123456789"}, {"v": "true"}]},
    {"f": [{"v": "2025-07-01T00:00:00"}, {"v": null}, {"v": null}, {"v": "FR"}, {"v": "-1"}, {"v": "1e300"}, {"v": "-0.5"}, {"v": "false"}]}
  ]
}`)
}

func TestQueryAgainstFake(t *testing.T) {
	fake := &fakeBigQuery{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	c, err := Open(context.Background(), compiler.Connection{Name: "bq", Type: "bigquery", Project: "shop-analytics", Dataset: "shop", Location: "EU"},
		warehouse.Options{Location: berlin}, option.WithEndpoint(srv.URL), option.WithoutAuthentication(), option.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rows, err := c.Query(context.Background(), "SELECT … WHERE country IN (@p1, @p2) AND n > @p3", []any{"DE", "x' OR '1'='1", int64(3)})
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	wantCols := []warehouse.Column{{Name: "ordered_at", Type: "time"}, {Name: "created", Type: "time"}, {Name: "day", Type: "date"}, {Name: "country", Type: "string"}, {Name: "orders", Type: "integer"}, {Name: "share", Type: "number"}, {Name: "revenue", Type: "decimal"}, {Name: "paid", Type: "boolean"}}
	for i, col := range rows.Columns() {
		if col != wantCols[i] {
			t.Errorf("column %d = %v, want %v", i, col, wantCols[i])
		}
	}
	want := [][]any{
		{"2025-03-01T00:00:00+01:00", "2025-03-01T12:00:00+01:00", "2025-03-01", "DE", int64(42), 0.25, warehouse.Decimal("12345678901234567890.123456789"), true},
		{"2025-07-01T00:00:00+02:00", nil, nil, "FR", int64(-1), 1e300, warehouse.Decimal("-0.5"), false},
	}
	for i := 0; rows.Next(); i++ {
		for j, v := range rows.Values() {
			if v != want[i][j] {
				t.Errorf("row %d %s = %#v, want %#v", i, wantCols[j].Name, v, want[i][j])
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// The values travelled as named, typed parameters, not in the SQL text.
	params, _ := json.Marshal(fake.request["queryParameters"])
	for _, s := range []string{`"name":"p1"`, `"value":"DE"`, `"name":"p2"`, `"value":"x' OR '1'='1"`, `"type":"INT64"`} {
		if !strings.Contains(string(params), s) {
			t.Errorf("query parameters %s lack %s", params, s)
		}
	}
	if fake.request["useLegacySql"] != false || fake.request["location"] != "EU" {
		t.Errorf("request = %v", fake.request)
	}
}

func TestQueryErrorFromFake(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error": {"code": 400, "message": "Unrecognized name: contry at [3:7]", "errors": [{"reason": "invalidQuery", "message": "Unrecognized name: contry at [3:7]"}]}}`)
	}))
	defer srv.Close()
	c, err := Open(context.Background(), compiler.Connection{Name: "bq", Type: "bigquery", Project: "shop-analytics"}, warehouse.Options{},
		option.WithEndpoint(srv.URL), option.WithoutAuthentication(), option.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Query(context.Background(), "SELECT contry FROM orders", nil)
	if err == nil || !strings.Contains(err.Error(), "Unrecognized name: contry") {
		t.Fatalf("err = %v", err)
	}
}
