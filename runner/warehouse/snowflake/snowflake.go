// Package snowflake runs queries on Snowflake through gosnowflake.
//
// Tested here: configuration (accounts, key-pair and password auth,
// secrets), SQL generation (golden files in the compiler) and a clean
// failure without a network. Not tested live: no Snowflake account can be
// reached from bic's CI.
package snowflake

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/snowflakedb/gosnowflake"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/runner/warehouse"
	"github.com/bic-dev/bic/runner/warehouse/sqlrows"
)

// Conn is a pool of sessions to one Snowflake account.
type Conn struct {
	db      *sql.DB
	timeout time.Duration
	loc     *time.Location
}

// Config builds gosnowflake's configuration from a connection's settings,
// resolving ${env:…} secrets and reading the private key. It does not connect.
func Config(c compiler.Connection, opts warehouse.Options) (*gosnowflake.Config, error) {
	if c.Account == "" || c.User == "" {
		return nil, fmt.Errorf("connection %s: snowflake needs account and user: %w", c.Name, warehouse.ErrConfig)
	}
	cfg := &gosnowflake.Config{
		Account:          c.Account,
		User:             c.User,
		Database:         c.Database,
		Schema:           c.Schema,
		Warehouse:        c.Warehouse,
		Role:             c.Role,
		Application:      "bic",
		LoginTimeout:     30 * time.Second,
		DisableTelemetry: true,
		// Weeks start on Monday, as in bic's other dialects.
		Params: map[string]*string{"WEEK_START": ptr("1"), "TIMEZONE": ptr(zoneName(opts.Location))},
	}
	var err error
	if c.Password != "" {
		if cfg.Password, err = opts.Expand(c.Name, "password", c.Password); err != nil {
			return nil, err
		}
	}
	switch {
	case c.PrivateKey != "":
		pemText, err := opts.Expand(c.Name, "private_key", c.PrivateKey)
		if err != nil {
			return nil, err
		}
		if cfg.PrivateKey, err = parseKey(c.Name, "private_key", []byte(pemText)); err != nil {
			return nil, err
		}
	case c.PrivateKeyPath != "":
		path := c.PrivateKeyPath
		if !filepath.IsAbs(path) {
			path = filepath.Join(opts.ProjectDir, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("connection %s: private_key_path: %v: %w", c.Name, err, warehouse.ErrConfig)
		}
		if cfg.PrivateKey, err = parseKey(c.Name, "private_key_path "+c.PrivateKeyPath, b); err != nil {
			return nil, err
		}
	}
	switch {
	case cfg.PrivateKey != nil || c.Authenticator == "jwt":
		if cfg.PrivateKey == nil {
			return nil, fmt.Errorf("connection %s: authenticator jwt needs private_key or private_key_path: %w", c.Name, warehouse.ErrConfig)
		}
		cfg.Authenticator = gosnowflake.AuthTypeJwt
	case c.Authenticator == "externalbrowser":
		cfg.Authenticator = gosnowflake.AuthTypeExternalBrowser
	case c.Authenticator == "oauth":
		cfg.Authenticator = gosnowflake.AuthTypeOAuth
		cfg.Token = cfg.Password
		cfg.Password = ""
	default:
		if cfg.Password == "" {
			return nil, fmt.Errorf("connection %s: snowflake needs password, private_key or private_key_path: %w", c.Name, warehouse.ErrConfig)
		}
		cfg.Authenticator = gosnowflake.AuthTypeSnowflake
	}
	return cfg, nil
}

func ptr(s string) *string { return &s }

func zoneName(loc *time.Location) string {
	if loc == nil {
		return "UTC"
	}
	return loc.String()
}

// parseKey reads an unencrypted PKCS #8 (or PKCS #1) RSA private key in PEM.
func parseKey(conn, setting string, b []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("connection %s: %s: expected a PEM private key (-----BEGIN PRIVATE KEY-----): %w", conn, setting, warehouse.ErrConfig)
	}
	if strings.Contains(block.Type, "ENCRYPTED") {
		return nil, fmt.Errorf("connection %s: %s: the key is encrypted; give an unencrypted PKCS #8 key: %w", conn, setting, warehouse.ErrConfig)
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("connection %s: %s: Snowflake key-pair authentication needs an RSA key, found %T: %w", conn, setting, k, warehouse.ErrConfig)
		}
		return rk, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	return nil, fmt.Errorf("connection %s: %s: not a PKCS #8 or PKCS #1 RSA private key: %w", conn, setting, warehouse.ErrConfig)
}

// Open logs in and checks that Snowflake answers.
func Open(ctx context.Context, c compiler.Connection, opts warehouse.Options) (*Conn, error) {
	cfg, err := Config(c, opts)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(gosnowflake.NewConnector(gosnowflake.SnowflakeDriver{}, *cfg))
	if c.MaxConnections > 0 {
		db.SetMaxOpenConns(c.MaxConnections)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connection %s: snowflake account %s: %w", c.Name, c.Account, err)
	}
	return &Conn{db: db, timeout: warehouse.Timeout(c), loc: opts.Location}, nil
}

// Close ends every session.
func (c *Conn) Close() error { return c.db.Close() }

// Query runs sql with args bound to its ? placeholders.
func (c *Conn) Query(ctx context.Context, query string, args []any) (warehouse.Rows, error) {
	rows, err := sqlrows.Query(ctx, c.db, c.timeout, query, args, columnType, c.normalize)
	if err != nil {
		return nil, fmt.Errorf("snowflake: %w", err)
	}
	return rows, nil
}

func columnType(dbType string) string {
	switch strings.ToUpper(dbType) {
	case "FIXED", "NUMBER", "DECIMAL":
		return warehouse.TypeDecimal
	case "REAL", "FLOAT", "DOUBLE":
		return warehouse.TypeNumber
	case "BOOLEAN":
		return warehouse.TypeBoolean
	case "DATE":
		return warehouse.TypeDate
	case "TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ", "TIMESTAMP":
		return warehouse.TypeTime
	default:
		return warehouse.TypeString
	}
}

func (c *Conn) normalize(col warehouse.Column, dbType string, v any) any {
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		if col.Type == warehouse.TypeDecimal {
			return warehouse.Decimal(v)
		}
		return v
	case int64:
		return v
	case float64:
		return v
	case bool:
		return v
	case time.Time:
		switch col.Type {
		case warehouse.TypeDate:
			return warehouse.FormatDate(v)
		case warehouse.TypeTime:
			return warehouse.FormatTime(v, strings.ToUpper(dbType) != "TIMESTAMP_NTZ", c.loc)
		}
		return v.Format("15:04:05.999999999")
	case []byte:
		return string(v)
	default:
		return warehouse.Text(v)
	}
}
