package metadata_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bic-dev/bic/publish/access"
	"github.com/bic-dev/bic/publish/metadata"
)

// TestTokens: a token is made once, listed without its hash, expires,
// is revoked, and each change leaves an audit row; the allow-list holds
// the active ones only.
func TestTokens(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			st.SetClock(func() time.Time { return now })
			prod, tp, err := st.CreateToken(ctx, "prod", "ana", 0)
			if err != nil {
				t.Fatal(err)
			}
			preview, tv, err := st.CreateToken(ctx, "pr-42", "bo", 24*time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if !access.LooksLikeToken(prod) || tp.ID != access.HashToken(prod).ID() || tp.Env != "prod" || tp.CreatedBy != "ana" || !tp.ExpiresAt.IsZero() {
				t.Errorf("prod token: %+v", tp)
			}
			if !tv.ExpiresAt.Equal(now.Add(24 * time.Hour)) {
				t.Errorf("preview token expires %v", tv.ExpiresAt)
			}
			all, err := st.ListTokens(ctx, "")
			if err != nil || len(all) != 2 {
				t.Fatalf("ListTokens = %v, %v", all, err)
			}
			only, err := st.ListTokens(ctx, "pr-42")
			if err != nil || len(only) != 1 || only[0].ID != tv.ID || !only[0].ExpiresAt.Equal(tv.ExpiresAt) || !only[0].CreatedAt.Equal(now) {
				t.Fatalf("ListTokens(pr-42) = %+v, %v", only, err)
			}

			list := func() *access.List {
				t.Helper()
				entries, err := st.ActiveTokens(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return access.NewList(entries)
			}
			if l := list(); len(l.Entries()) != 2 {
				t.Errorf("active: %v", l.Entries())
			} else if _, ok := l.Check("prod", prod, now); !ok {
				t.Error("the allow-list does not admit the prod token")
			} else if _, ok := l.Check("pr-42", preview, now); !ok {
				t.Error("the allow-list does not admit the preview token")
			}

			now = now.Add(25 * time.Hour)
			if l := list(); len(l.Entries()) != 1 || l.Entries()[0].ID != tp.ID {
				t.Errorf("after the preview token expired: %v", l.Entries())
			}
			revoked, err := st.RevokeToken(ctx, tp.ID, "carla")
			if err != nil || revoked.RevokedAt.IsZero() {
				t.Fatalf("RevokeToken = %+v, %v", revoked, err)
			}
			if _, err := st.RevokeToken(ctx, tp.ID, "carla"); err != nil {
				t.Errorf("revoking again: %v", err)
			}
			if _, err := st.RevokeToken(ctx, "000000000000", "carla"); !errors.Is(err, metadata.ErrNoToken) {
				t.Errorf("an unknown id: %v", err)
			}
			if l := list(); len(l.Entries()) != 0 {
				t.Errorf("after revoking: %v", l.Entries())
			}
			var audits []string
			rows, err := st.DB().QueryContext(ctx, `SELECT actor, action, env, detail FROM audit_log WHERE action LIKE 'token_%' ORDER BY id`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var actor, action, env, detail string
				if err := rows.Scan(&actor, &action, &env, &detail); err != nil {
					t.Fatal(err)
				}
				audits = append(audits, actor+" "+action+" "+env)
				if !strings.Contains(detail, `"token_id"`) {
					t.Errorf("audit detail %s names no token", detail)
				}
			}
			want := "ana token_create prod|bo token_create pr-42|carla token_revoke prod"
			if got := strings.Join(audits, "|"); got != want {
				t.Errorf("audit rows %q, want %q (a second revoke writes none)", got, want)
			}
			assertNowhereInDB(t, st, prod, preview)
		})
	}
}

// assertNowhereInDB reads every column of every table and fails if any
// holds one of the tokens (or the random part of one).
func assertNowhereInDB(t *testing.T, st *metadata.Store, tokens ...string) {
	t.Helper()
	ctx := context.Background()
	q := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if st.Dialect() == "postgres" {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
	}
	rows, err := st.DB().QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) < 5 {
		t.Fatalf("found only tables %v", tables)
	}
	hashes := 0
	for _, table := range tables {
		rows, err := st.DB().QueryContext(ctx, "SELECT * FROM "+table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				s := fmt.Sprint(v)
				if b, ok := v.([]byte); ok {
					s = string(b)
				}
				for _, tok := range tokens {
					if strings.Contains(s, tok) || strings.Contains(s, strings.TrimPrefix(tok, access.Prefix)) {
						t.Errorf("%s.%s holds a token", table, cols[i])
					}
					if s == access.HashToken(tok).String() {
						hashes++
					}
				}
			}
		}
		rows.Close()
	}
	if hashes != len(tokens) {
		t.Errorf("found %d hashes of %d tokens", hashes, len(tokens))
	}
}
