// Package bigquery runs queries on Google BigQuery.
//
// Tested here: configuration (credentials from a file, from a secret, or
// application default credentials), SQL generation (golden files in the
// compiler), and result decoding against a fake of BigQuery's REST API
// (an httptest server, named as a fake in its test). Not tested live: no
// Google Cloud project can be reached from bic's CI.
package bigquery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"cloud.google.com/go/bigquery"
	"cloud.google.com/go/civil"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/runner/warehouse"
)

// Conn is a BigQuery client for one project.
type Conn struct {
	client   *bigquery.Client
	dataset  string
	location string
	timeout  time.Duration
	loc      *time.Location
}

// ClientOptions builds the client's options from a connection's settings:
// credentials_file (relative to the project), credentials_json (a
// secret), or else application default credentials.
func ClientOptions(c compiler.Connection, opts warehouse.Options) ([]option.ClientOption, error) {
	if c.Project == "" {
		return nil, fmt.Errorf("connection %s: bigquery needs project: %w", c.Name, warehouse.ErrConfig)
	}
	switch {
	case c.CredentialsFile != "" && c.CredentialsJSON != "":
		return nil, fmt.Errorf("connection %s: give credentials_file or credentials_json, not both: %w", c.Name, warehouse.ErrConfig)
	case c.CredentialsFile != "":
		path := c.CredentialsFile
		if !filepath.IsAbs(path) {
			path = filepath.Join(opts.ProjectDir, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("connection %s: credentials_file: %v: %w", c.Name, err, warehouse.ErrConfig)
		}
		if err := checkServiceAccount(b); err != nil {
			return nil, fmt.Errorf("connection %s: credentials_file %s: %v: %w", c.Name, c.CredentialsFile, err, warehouse.ErrConfig)
		}
		return []option.ClientOption{option.WithAuthCredentialsJSON(option.ServiceAccount, b)}, nil
	case c.CredentialsJSON != "":
		js, err := opts.Expand(c.Name, "credentials_json", c.CredentialsJSON)
		if err != nil {
			return nil, err
		}
		if err := checkServiceAccount([]byte(js)); err != nil {
			return nil, fmt.Errorf("connection %s: credentials_json: %v: %w", c.Name, err, warehouse.ErrConfig)
		}
		return []option.ClientOption{option.WithAuthCredentialsJSON(option.ServiceAccount, []byte(js))}, nil
	}
	return nil, nil // application default credentials
}

// Open creates the client. extra options come after the connection's, so
// tests can point the client at a fake endpoint.
func Open(ctx context.Context, c compiler.Connection, opts warehouse.Options, extra ...option.ClientOption) (*Conn, error) {
	clientOpts, err := ClientOptions(c, opts)
	if err != nil {
		return nil, err
	}
	client, err := bigquery.NewClient(ctx, c.Project, append(clientOpts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("connection %s: bigquery project %s: %w", c.Name, c.Project, err)
	}
	return &Conn{client: client, dataset: c.Dataset, location: c.Location, timeout: warehouse.Timeout(c), loc: opts.Location}, nil
}

// Close releases the client.
func (c *Conn) Close() error { return c.client.Close() }

// Query runs sql with args bound to its @p1, @p2, … parameters.
func (c *Conn) Query(ctx context.Context, sql string, args []any) (warehouse.Rows, error) {
	ctx, cancel := warehouse.WithTimeout(ctx, c.timeout)
	q := c.client.Query(sql)
	q.Location = c.location
	q.DefaultDatasetID = c.dataset
	for i, a := range args {
		q.Parameters = append(q.Parameters, bigquery.QueryParameter{Name: fmt.Sprintf("p%d", i+1), Value: a})
	}
	it, err := q.Read(ctx)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("bigquery: %w", err)
	}
	r := &bqRows{it: it, cancel: cancel, loc: c.loc}
	// The schema arrives with the first page: read it before Columns.
	r.prefetch()
	if r.err != nil {
		cancel()
		return nil, fmt.Errorf("bigquery: %w", r.err)
	}
	for _, f := range it.Schema {
		r.cols = append(r.cols, warehouse.Column{Name: f.Name, Type: columnType(f.Type)})
	}
	return r, nil
}

func columnType(t bigquery.FieldType) string {
	switch t {
	case bigquery.StringFieldType:
		return warehouse.TypeString
	case bigquery.IntegerFieldType:
		return warehouse.TypeInteger
	case bigquery.FloatFieldType:
		return warehouse.TypeNumber
	case bigquery.NumericFieldType, bigquery.BigNumericFieldType:
		return warehouse.TypeDecimal
	case bigquery.BooleanFieldType:
		return warehouse.TypeBoolean
	case bigquery.TimestampFieldType, bigquery.DateTimeFieldType:
		return warehouse.TypeTime
	case bigquery.DateFieldType:
		return warehouse.TypeDate
	default:
		return warehouse.TypeString
	}
}

type bqRows struct {
	it      *bigquery.RowIterator
	cancel  context.CancelFunc
	loc     *time.Location
	cols    []warehouse.Column
	next    []bigquery.Value
	hasNext bool
	vals    []any
	err     error
}

func (r *bqRows) prefetch() {
	var row []bigquery.Value
	err := r.it.Next(&row)
	switch {
	case errors.Is(err, iterator.Done):
		r.hasNext = false
	case err != nil:
		r.err = err
		r.hasNext = false
	default:
		r.next, r.hasNext = row, true
	}
}

func (r *bqRows) Columns() []warehouse.Column { return r.cols }
func (r *bqRows) Values() []any               { return r.vals }
func (r *bqRows) Err() error                  { return r.err }

func (r *bqRows) Close() error {
	r.cancel()
	return nil
}

func (r *bqRows) Next() bool {
	if !r.hasNext {
		return false
	}
	if r.vals == nil {
		r.vals = make([]any, len(r.cols))
	}
	for i, v := range r.next {
		r.vals[i] = r.normalize(v)
	}
	r.prefetch()
	return true
}

func (r *bqRows) normalize(v bigquery.Value) any {
	switch v := v.(type) {
	case nil:
		return nil
	case string, int64, float64, bool:
		return v
	case *big.Rat:
		if v == nil {
			return nil
		}
		return warehouse.Decimal(ratString(v))
	case time.Time:
		return warehouse.FormatTime(v, true, r.loc)
	case civil.DateTime:
		return warehouse.FormatTime(v.In(time.UTC), false, r.loc)
	case civil.Date:
		return v.String()
	case civil.Time:
		return v.String()
	case []byte:
		return string(v)
	default:
		return warehouse.Text(v)
	}
}

// ratString writes a NUMERIC exactly: BigQuery keeps at most 38 digits
// after the point (BIGNUMERIC), so that many always suffice; trailing
// zeros are dropped.
func ratString(r *big.Rat) string {
	s := r.FloatString(38)
	for len(s) > 0 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}

// checkServiceAccount reads enough of a credentials file to say what is
// wrong with it before Google's libraries do.
func checkServiceAccount(b []byte) error {
	var doc struct {
		Type        string `json:"type"`
		ClientEmail string `json:"client_email"`
		PrivateKey  string `json:"private_key"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("not a JSON credentials file: %v", err)
	}
	if doc.Type != "service_account" {
		return fmt.Errorf(`expected a service account key ("type": "service_account"), found type %q`, doc.Type)
	}
	if doc.ClientEmail == "" || doc.PrivateKey == "" {
		return errors.New("the service account key lacks client_email or private_key")
	}
	return nil
}
