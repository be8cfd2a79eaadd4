package access_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bic-dev/bic/publish/access"
	"github.com/bic-dev/bic/publish/storage"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func entry(env string, h access.Hash, expires *time.Time) access.Entry {
	return access.Entry{ID: h.ID(), Env: env, Hash: h.String(), CreatedAt: now.Add(-time.Hour), ExpiresAt: expires}
}

func TestNewToken(t *testing.T) {
	a, ha := access.NewToken()
	b, hb := access.NewToken()
	if a == b || ha == hb {
		t.Fatal("two tokens are the same")
	}
	if !strings.HasPrefix(a, "bic_") || len(a) != 4+43 || !access.LooksLikeToken(a) {
		t.Errorf("token %q has the wrong shape", a)
	}
	if access.HashToken(a) != ha || len(ha.ID()) != 12 || strings.Contains(ha.String(), ha.ID()) {
		t.Errorf("hash or id: %s %s", ha, ha.ID())
	}
	if h, ok := access.ParseHash(ha.String()); !ok || h != ha {
		t.Error("ParseHash does not read String back")
	}
	for _, s := range []string{"", "bic_", a[:len(a)-1], "xyz_" + a[4:], a[:10] + "!" + a[11:], a + "A"} {
		if access.LooksLikeToken(s) {
			t.Errorf("LooksLikeToken(%q) = true", s)
		}
	}
}

func TestCheck(t *testing.T) {
	prod, hProd := access.NewToken()
	preview, hPreview := access.NewToken()
	old, hOld := access.NewToken()
	past, future := now.Add(-time.Minute), now.Add(time.Hour)
	other, _ := access.NewToken()
	l := access.NewList([]access.Entry{
		entry("prod", hProd, nil),
		entry("pr-42", hPreview, &future),
		entry("pr-42", hOld, &past),
		{ID: "bad", Env: "prod", Hash: "not hex"},
	})
	for _, c := range []struct {
		name, env, token string
		ok               bool
	}{
		{"a token of its environment", "prod", prod, true},
		{"a token with an expiry to come", "pr-42", preview, true},
		{"another environment's token", "pr-42", prod, false},
		{"a token of another environment, the other way", "prod", preview, false},
		{"an expired token", "pr-42", old, false},
		{"a token not in the list", "prod", other, false},
		{"no token", "prod", "", false},
		{"a hash instead of the token", "prod", hProd.String(), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, ok := l.Check(c.env, c.token, now); ok != c.ok {
				t.Errorf("Check = %v, want %v", ok, c.ok)
			}
		})
	}
	if env, ok := l.EnvOf(prod, now); !ok || env != "prod" {
		t.Errorf("EnvOf = %q, %v", env, ok)
	}
	if _, ok := l.EnvOf(old, now); ok {
		t.Error("EnvOf admits an expired token")
	}
	if len(l.Entries()) != 3 {
		t.Errorf("the malformed entry was kept: %v", l.Entries())
	}
	var none *access.List
	if _, ok := none.Check("prod", prod, now); ok {
		t.Error("a nil list admits")
	}
}

func TestSignVerify(t *testing.T) {
	_, h := access.NewToken()
	_, hOther := access.NewToken()
	_, hOld := access.NewToken()
	past := now.Add(-time.Minute)
	l := access.NewList([]access.Entry{entry("pr-42", h, nil), entry("prod", hOther, nil), entry("pr-42", hOld, &past)})
	good := access.Sign(h, "pr-42", now.Add(24*time.Hour))
	tamper := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	id, rest, _ := strings.Cut(good, ".")
	exp, sig, _ := strings.Cut(rest, ".")
	for _, c := range []struct {
		name, env, link string
		ok              bool
	}{
		{"a valid link", "pr-42", good, true},
		{"another environment", "prod", good, false},
		{"an expired link", "pr-42", access.Sign(h, "pr-42", now.Add(-time.Second)), false},
		{"a link signed for another environment", "pr-42", access.Sign(h, "prod", now.Add(time.Hour)), false},
		{"a link of another environment's token", "pr-42", access.Sign(hOther, "pr-42", now.Add(time.Hour)), false},
		{"a link of an expired token", "pr-42", access.Sign(hOld, "pr-42", now.Add(time.Hour)), false},
		{"a tampered signature", "pr-42", tamper(good, len(good)-5), false},
		{"the last character of the signature changed", "pr-42", tamper(good, len(good)-1), false},
		{"a later expiry", "pr-42", id + "." + "9" + exp + "." + sig, false},
		{"no signature", "pr-42", id + "." + exp, false},
		{"empty", "pr-42", "", false},
		{"an unknown id", "pr-42", "000000000000." + exp + "." + sig, false},
		{"a leading zero in the expiry", "pr-42", id + ".0" + exp + "." + sig, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, ok := l.Verify(c.env, c.link, now); ok != c.ok {
				t.Errorf("Verify(%q) = %v, want %v", c.link, ok, c.ok)
			}
		})
	}
	revoked := access.NewList([]access.Entry{entry("prod", hOther, nil)})
	if _, ok := revoked.Verify("pr-42", good, now); ok {
		t.Error("a link outlives its token's removal from the list")
	}
}

func TestAllowListInStorage(t *testing.T) {
	ctx := context.Background()
	st, err := storage.Open(ctx, "file://"+t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := access.ReadAllowList(ctx, st); !errors.Is(err, access.ErrNoAllowList) {
		t.Fatalf("no allow-list: %v", err)
	}
	tok, h := access.NewToken()
	future := now.Add(time.Hour)
	if err := access.Write(ctx, st, []access.Entry{entry("prod", h, &future)}); err != nil {
		t.Fatal(err)
	}
	l, err := access.ReadAllowList(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l.Check("prod", tok, now); !ok {
		t.Error("the token read back does not admit")
	}
	b, err := storage.ReadAll(ctx, st, access.AllowListKey, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), tok) || strings.Contains(string(b), tok[4:]) {
		t.Error("the allow-list holds the token")
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil || doc["version"] != float64(1) {
		t.Errorf("document %s: %v", b, err)
	}
	if err := st.WritePointer(ctx, access.AllowListKey, []byte(`{"version": 2, "tokens": []}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := access.ReadAllowList(ctx, st); err == nil || !strings.Contains(err.Error(), "version 2") {
		t.Errorf("a newer document: %v", err)
	}
}
