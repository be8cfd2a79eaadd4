package snowflake

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/snowflakedb/gosnowflake"

	"github.com/bic-dev/bic/compiler"
	"github.com/bic-dev/bic/runner/warehouse"
)

func pemKey(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func TestConfig(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "rsa.p8"), []byte(pemKey(t, rsaKey)), 0o600)
	os.WriteFile(filepath.Join(dir, "garbage.p8"), []byte("not a key"), 0o600)
	env := map[string]string{"SF_PASSWORD": "s3cret", "SF_KEY": pemKey(t, rsaKey), "SF_EC": pemKey(t, ecKey)}
	opts := warehouse.Options{ProjectDir: dir, Location: time.UTC, Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	base := compiler.Connection{Name: "sf", Type: "snowflake", Account: "xy12345.eu-central-1", User: "BIC", Warehouse: "COMPUTE_WH", Database: "SHOP", Schema: "PUBLIC", Role: "ANALYST"}
	with := func(f func(*compiler.Connection)) compiler.Connection { c := base; f(&c); return c }
	tests := []struct {
		name    string
		conn    compiler.Connection
		auth    gosnowflake.AuthType
		wantErr string
	}{
		{"password", with(func(c *compiler.Connection) { c.Password = "${env:SF_PASSWORD}" }), gosnowflake.AuthTypeSnowflake, ""},
		{"key pair from env", with(func(c *compiler.Connection) { c.PrivateKey = "${env:SF_KEY}" }), gosnowflake.AuthTypeJwt, ""},
		{"key pair from file", with(func(c *compiler.Connection) { c.PrivateKeyPath = "rsa.p8" }), gosnowflake.AuthTypeJwt, ""},
		{"external browser", with(func(c *compiler.Connection) { c.Authenticator = "externalbrowser" }), gosnowflake.AuthTypeExternalBrowser, ""},
		{"missing account", with(func(c *compiler.Connection) { c.Account = ""; c.Password = "${env:SF_PASSWORD}" }), 0, "connection sf: snowflake needs account and user"},
		{"no credentials", base, 0, "connection sf: snowflake needs password, private_key or private_key_path"},
		{"unset secret", with(func(c *compiler.Connection) { c.Password = "${env:SF_NOPE}" }), 0, "connection sf: password: environment variable SF_NOPE is not set"},
		{"missing key file", with(func(c *compiler.Connection) { c.PrivateKeyPath = "nope.p8" }), 0, "connection sf: private_key_path: open"},
		{"bad key file", with(func(c *compiler.Connection) { c.PrivateKeyPath = "garbage.p8" }), 0, "connection sf: private_key_path garbage.p8: expected a PEM private key"},
		{"not an RSA key", with(func(c *compiler.Connection) { c.PrivateKey = "${env:SF_EC}" }), 0, "needs an RSA key, found *ecdsa.PrivateKey"},
		{"jwt without key", with(func(c *compiler.Connection) { c.Authenticator = "jwt" }), 0, "authenticator jwt needs private_key or private_key_path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Config(tt.conn, opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if !errors.Is(err, warehouse.ErrConfig) {
					t.Errorf("err is not ErrConfig: %v", err)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("the error shows the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Authenticator != tt.auth {
				t.Errorf("authenticator = %v, want %v", cfg.Authenticator, tt.auth)
			}
			if cfg.Account != "xy12345.eu-central-1" || cfg.Warehouse != "COMPUTE_WH" || cfg.Role != "ANALYST" || *cfg.Params["WEEK_START"] != "1" {
				t.Errorf("config = %+v", cfg)
			}
			if _, err := gosnowflake.DSN(cfg); err != nil {
				t.Errorf("gosnowflake rejects the config: %v", err)
			}
		})
	}
}

// Without a network, Open fails with an error that names the connection
// and account, and does not hang.
func TestOpenFailsCleanlyOffline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c := compiler.Connection{Name: "sf", Type: "snowflake", Account: "bic-unreachable-test", User: "BIC", Password: "${env:SF_PASSWORD}"}
	opts := warehouse.Options{Env: func(string) (string, bool) { return "pw", true }}
	start := time.Now()
	_, err := Open(ctx, c, opts)
	if err == nil {
		t.Fatal("Open succeeded without a network")
	}
	if !strings.Contains(err.Error(), "connection sf: snowflake account bic-unreachable-test") {
		t.Errorf("err = %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("Open took %v", time.Since(start))
	}
}

func TestColumnTypes(t *testing.T) {
	for db, want := range map[string]string{"FIXED": "decimal", "REAL": "number", "TEXT": "string", "TIMESTAMP_NTZ": "time", "TIMESTAMP_TZ": "time", "DATE": "date", "BOOLEAN": "boolean", "VARIANT": "string"} {
		if got := columnType(db); got != want {
			t.Errorf("columnType(%s) = %s, want %s", db, got, want)
		}
	}
}
