package query

import (
	"testing"
	"time"

	"github.com/bic-dev/bic/compiler"
)

// Relative windows resolve against as_of rounded to their grain: the same
// chart asked within the same hour (for an hour window) or day (for a day
// window) is the same work, with the same input key.
func TestInputKeyFollowsTheWindowsGrain(t *testing.T) {
	m := shopManifest(t)
	key := func(period string, asOf time.Time) string {
		t.Helper()
		q, err := PlanChart(m, "sales/revenue_by_month", FilterState{"period": period}, asOf)
		if err != nil {
			t.Fatal(err)
		}
		k, err := q.InputKey(m, "2")
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	at := func(hh, mm int) time.Time { return time.Date(2026, 3, 10, hh, mm, 0, 0, time.UTC) }
	tests := []struct {
		name   string
		period string
		a, b   time.Time
		same   bool
	}{
		{"last_24_hours within one hour", "last_24_hours", at(10, 1), at(10, 59), true},
		{"last_24_hours in another hour", "last_24_hours", at(10, 59), at(11, 0), false},
		{"last_7_days within one day", "last_7_days", at(0, 30), at(21, 45), true},
		{"last_7_days on another day", "last_7_days", at(21, 45), at(23, 30), false}, // 23:30 UTC is the next day in Berlin
		{"a fixed span at any time", "2025-01-01..2025-03-31", at(1, 0), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if same := key(tt.period, tt.a) == key(tt.period, tt.b); same != tt.same {
				t.Errorf("same key at %s and %s = %v, want %v", tt.a, tt.b, same, tt.same)
			}
		})
	}
}

// The input key changes with each thing that determines the result, and
// with nothing else.
func TestInputKey(t *testing.T) {
	sql := SQL{Text: "SELECT count(*) FROM orders WHERE country IN ($1)", Args: []any{"DE"}}
	conn := compiler.Connection{Name: "warehouse", Type: "postgres", URL: "postgres://bic:${env:PG_PASSWORD}@db/shop", Schema: "shop", Timeout: "60s"}
	base := InputKey(sql, conn, "2")
	if again := InputKey(sql, conn, "2"); again != base {
		t.Fatal("the same input gives two keys")
	}
	tests := []struct {
		name    string
		sql     SQL
		conn    func(c compiler.Connection) compiler.Connection
		encoder string
		changes bool
	}{
		{"other SQL", SQL{Text: "SELECT count(*) FROM orders WHERE country NOT IN ($1)", Args: []any{"DE"}}, nil, "2", true},
		{"other arguments", SQL{Text: sql.Text, Args: []any{"FR"}}, nil, "2", true},
		{"an argument of another type", SQL{Text: sql.Text, Args: []any{1.0}}, nil, "2", true},
		{"another connection", sql, func(c compiler.Connection) compiler.Connection { c.Name = "analytics"; return c }, "2", true},
		{"another schema", sql, func(c compiler.Connection) compiler.Connection { c.Schema = "staging"; return c }, "2", true},
		{"another encoder version", sql, nil, "3", true},
		{"another timeout", sql, func(c compiler.Connection) compiler.Connection { c.Timeout = "5m"; return c }, "2", false},
		{"another description", sql, func(c compiler.Connection) compiler.Connection { c.Description = "the shop"; return c }, "2", false},
		{"another password reference", sql, func(c compiler.Connection) compiler.Connection { c.Password = "${env:OTHER}"; return c }, "2", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := conn
			if tt.conn != nil {
				c = tt.conn(c)
			}
			if changed := InputKey(tt.sql, c, tt.encoder) != base; changed != tt.changes {
				t.Errorf("key changed = %v, want %v", changed, tt.changes)
			}
		})
	}
}
