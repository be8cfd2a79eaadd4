// Package postgres runs queries on PostgreSQL through a pgx connection pool.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/runner/warehouse"
)

// Conn is a pool of connections to one PostgreSQL database.
type Conn struct {
	pool    *pgxpool.Pool
	timeout time.Duration
	loc     *time.Location
}

// Config builds the pool configuration from a connection's settings,
// resolving ${env:…} secrets. It does not connect.
func Config(c compiler.Connection, opts warehouse.Options) (*pgxpool.Config, error) {
	dsn := c.URL
	if dsn == "" {
		u := url.URL{Scheme: "postgres", Host: c.Host, Path: "/" + c.Database}
		if c.Port != 0 {
			u.Host += ":" + strconv.Itoa(c.Port)
		}
		if c.User != "" {
			u.User = url.User(c.User)
		}
		if c.Password != "" {
			pw, err := opts.Expand(c.Name, "password", c.Password)
			if err != nil {
				return nil, err
			}
			u.User = url.UserPassword(c.User, pw) // escaped by url.URL
		}
		if c.SSLMode != "" {
			u.RawQuery = url.Values{"sslmode": {c.SSLMode}}.Encode()
		}
		dsn = u.String()
	} else {
		// Each ${env:…} value is percent-encoded for its part of the URL.
		var err error
		if dsn, err = opts.ExpandURL(c.Name, "url", dsn); err != nil {
			return nil, err
		}
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the DSN; say which setting is wrong instead.
		return nil, fmt.Errorf("connection %s: invalid postgres settings in %s: %w", c.Name, compiler.RedactURL(dsn), warehouse.ErrConfig)
	}
	if c.Schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = c.Schema
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "bic"
	// The session works in the project's time zone, so date_trunc and
	// comparisons of timestamptz values happen on its wall clock.
	if opts.Location != nil {
		cfg.ConnConfig.RuntimeParams["timezone"] = opts.Location.String()
	}
	if c.MaxConnections > 0 {
		cfg.MaxConns = int32(c.MaxConnections)
	}
	return cfg, nil
}

// Open connects to the database and checks that it answers.
func Open(ctx context.Context, c compiler.Connection, opts warehouse.Options) (*Conn, error) {
	cfg, err := Config(c, opts)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connection %s: %w", c.Name, compiler.RedactError(err, cfg.ConnConfig.Password))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		// pgx names the user, database and host it tried; none of them may
		// carry the password, but a malformed setting could put it there.
		return nil, fmt.Errorf("connection %s: %w", c.Name, compiler.RedactError(err, cfg.ConnConfig.Password))
	}
	conn := &Conn{pool: pool, loc: opts.Location}
	conn.timeout = warehouse.Timeout(c)
	return conn, nil
}

// Close closes every connection of the pool.
func (c *Conn) Close() error {
	c.pool.Close()
	return nil
}

// Query runs sql with args bound as parameters ($1, $2, …).
func (c *Conn) Query(ctx context.Context, sql string, args []any) (warehouse.Rows, error) {
	ctx, cancel := warehouse.WithTimeout(ctx, c.timeout)
	rows, err := c.pool.Query(ctx, sql, args...)
	if err != nil {
		cancel()
		return nil, describe(err)
	}
	fields := rows.FieldDescriptions()
	cols := make([]warehouse.Column, len(fields))
	for i, f := range fields {
		cols[i] = warehouse.Column{Name: f.Name, Type: columnType(f.DataTypeOID)}
	}
	return &pgRows{rows: rows, cols: cols, fields: fields, loc: c.loc, cancel: cancel, vals: make([]any, len(cols))}, nil
}

// describe keeps PostgreSQL's message, position and hint, which say what is wrong with the SQL.
func describe(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		msg := fmt.Sprintf("postgres: %s (SQLSTATE %s)", pe.Message, pe.Code)
		if pe.Position > 0 {
			msg += fmt.Sprintf(" at character %d", pe.Position)
		}
		if pe.Hint != "" {
			msg += "; hint: " + pe.Hint
		}
		return &queryError{msg: msg, err: err}
	}
	return err
}

// queryError is PostgreSQL's error as describe writes it. It wraps the
// driver's error for errors.As without repeating its text, which is the
// same message again ("ERROR: … (SQLSTATE …)").
type queryError struct {
	msg string
	err error
}

func (e *queryError) Error() string { return e.msg }
func (e *queryError) Unwrap() error { return e.err }

func columnType(oid uint32) string {
	switch oid {
	case pgtype.BoolOID:
		return warehouse.TypeBoolean
	case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID:
		return warehouse.TypeInteger
	case pgtype.Float4OID, pgtype.Float8OID:
		return warehouse.TypeNumber
	case pgtype.NumericOID:
		return warehouse.TypeDecimal
	case pgtype.TimestampOID, pgtype.TimestamptzOID:
		return warehouse.TypeTime
	case pgtype.DateOID:
		return warehouse.TypeDate
	default:
		return warehouse.TypeString
	}
}

type pgRows struct {
	rows   pgx.Rows
	cols   []warehouse.Column
	fields []pgconn.FieldDescription
	loc    *time.Location
	cancel context.CancelFunc
	vals   []any
	err    error
}

func (r *pgRows) Columns() []warehouse.Column { return r.cols }
func (r *pgRows) Values() []any               { return r.vals }

func (r *pgRows) Next() bool {
	if r.err != nil || !r.rows.Next() {
		return false
	}
	raw, err := r.rows.Values()
	if err != nil {
		r.err = err
		return false
	}
	for i, v := range raw {
		r.vals[i] = r.normalize(i, v)
	}
	return true
}

func (r *pgRows) normalize(i int, v any) any {
	switch v := v.(type) {
	case nil:
		return nil
	case int16:
		return int64(v)
	case int32:
		return int64(v)
	case float32:
		return float64(v)
	case pgtype.Numeric:
		if !v.Valid {
			return nil
		}
		if v.NaN || v.InfinityModifier != pgtype.Finite {
			f, _ := v.Float64Value()
			return f.Float64
		}
		b, err := v.MarshalJSON()
		if err != nil {
			return nil
		}
		return warehouse.Decimal(b)
	case time.Time:
		switch r.fields[i].DataTypeOID {
		case pgtype.DateOID:
			return warehouse.FormatDate(v)
		case pgtype.TimestamptzOID:
			return warehouse.FormatTime(v, true, r.loc)
		default:
			return warehouse.FormatTime(v, false, r.loc)
		}
	case int64, float64, bool, string:
		return v
	default:
		return warehouse.Text(v)
	}
}

func (r *pgRows) Err() error {
	if r.err != nil {
		return r.err
	}
	return describe(r.rows.Err())
}

func (r *pgRows) Close() error {
	r.rows.Close()
	r.cancel()
	return nil
}
