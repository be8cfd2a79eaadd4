// Package servicetest decides whether a test that needs a real service
// (PostgreSQL, NATS, S3, Chromium) runs: it reads the service's address
// from a BIC_TEST_* variable. Without it a test skips locally, saying how
// to run it, and fails under CI=true, where a missing service is a broken
// setup, never a silent skip.
package servicetest

import (
	"os"
	"testing"
)

// URL returns the address in the environment variable env, or ends the test.
func URL(t testing.TB, env, example string) string {
	t.Helper()
	if v := os.Getenv(env); v != "" {
		return v
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not set: CI must provide this service (.ci/run starts it)", env)
	}
	t.Skipf("%s is not set; run with %s=%s to test against a real service", env, env, example)
	return ""
}

// Postgres is the URL of a PostgreSQL database that tests may create schemas in.
func Postgres(t testing.TB) string {
	return URL(t, "BIC_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
}

// NATS is the URL of a NATS server with JetStream that tests may create
// streams on (each test its own, by name).
func NATS(t testing.TB) string {
	return URL(t, "BIC_TEST_NATS_URL", "nats://127.0.0.1:4222")
}

// S3 is the storage URL of an S3-compatible server and a bucket that tests
// may write under (each test its own prefix); credentials come from the
// standard AWS environment variables.
func S3(t testing.TB) string {
	return URL(t, "BIC_TEST_S3_URL", "s3://bic-test?endpoint=127.0.0.1:7070&insecure=1")
}

// Chrome is the path of a Chromium (or Chrome) binary that tests may start
// headless, each with a user data folder of its own.
func Chrome(t testing.TB) string {
	return URL(t, "BIC_TEST_CHROME", "/usr/bin/chromium")
}
