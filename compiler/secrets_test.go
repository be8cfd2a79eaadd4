package compiler

import (
	"errors"
	"net/url"
	"slices"
	"testing"
)

// hostilePasswords hold every character that means something in a URL.
var hostilePasswords = []string{
	"p@ss/w:rd#x?y",
	"a@b/c",
	"50% off & more=yes+no",
	"with space",
	"ünïcødé-密码",
	"%40already%2Fencoded",
	"trailing@",
	"[::1]:5432,",
	`back\slash'quote"`,
}

func TestExpandURLKeepsEveryPartInPlace(t *testing.T) {
	for _, pw := range hostilePasswords {
		t.Run(pw, func(t *testing.T) {
			env := map[string]string{"PW": pw, "DB": "shop/" + pw, "APP": pw}
			lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
			got, missing := ExpandURL("postgres://bic:${env:PW}@db.internal:5432/${env:DB}?sslmode=disable&application_name=${env:APP}", lookup)
			if missing != "" {
				t.Fatalf("missing = %q", missing)
			}
			u, err := url.Parse(got)
			if err != nil {
				t.Fatalf("expanded URL does not parse: %v", err)
			}
			if p, _ := u.User.Password(); p != pw || u.User.Username() != "bic" {
				t.Errorf("userinfo = %q:%q, want bic:%q", u.User.Username(), p, pw)
			}
			if u.Host != "db.internal:5432" {
				t.Errorf("host = %q, want db.internal:5432", u.Host)
			}
			if u.Path != "/shop/"+pw {
				t.Errorf("path = %q, want %q", u.Path, "/shop/"+pw)
			}
			q := u.Query()
			if q.Get("sslmode") != "disable" || q.Get("application_name") != pw || len(q) != 2 {
				t.Errorf("query = %v", q)
			}
			if u.Fragment != "" {
				t.Errorf("fragment = %q", u.Fragment)
			}
			if err := CheckURLAuthority(got); err != nil {
				t.Errorf("CheckURLAuthority(%q) = %v", got, err)
			}
			only, _ := ExpandURL("postgres://bic:${env:PW}@db.internal:5432/shop", lookup)
			if r := RedactURL(only); r != "postgres://xxxxx@db.internal:5432/shop" {
				t.Errorf("RedactURL(%q) = %q", only, r)
			}
		})
	}
}

func TestExpandURL(t *testing.T) {
	env := map[string]string{
		"PW":   "p@ss/w:rd#x?y",
		"USER": "ana:admin",
		"HOST": "db-1:5433,db-2:5433",
		"URL":  "postgres://u:raw@host/db",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tests := []struct {
		name, tmpl, want, missing string
	}{
		{"password", "postgres://bic:${env:PW}@db/shop", "postgres://bic:p%40ss%2Fw%3Ard%23x%3Fy@db/shop", ""},
		{"user with a colon", "postgres://${env:USER}:${env:PW}@db/shop", "postgres://ana%3Aadmin:p%40ss%2Fw%3Ard%23x%3Fy@db/shop", ""},
		{"hosts and ports", "postgres://bic@${env:HOST}/shop", "postgres://bic@db-1:5433,db-2:5433/shop", ""},
		{"host without userinfo", "postgres://${env:HOST}/shop", "postgres://db-1:5433,db-2:5433/shop", ""},
		{"password in the query", "postgres://db/shop?password=${env:PW}", "postgres://db/shop?password=p%40ss%2Fw%3Ard%23x%3Fy", ""},
		{"the whole URL", "${env:URL}", "postgres://u:raw@host/db", ""},
		{"not a URL", "host=db password=${env:PW}", "host=db password=p@ss/w:rd#x?y", ""},
		{"missing", "postgres://bic:${env:NOPE}@db/${env:ALSO_NOPE}", "postgres://bic:${env:NOPE}@db/${env:ALSO_NOPE}", "NOPE"},
		{"no references", "postgres://bic@db/shop?sslmode=disable", "postgres://bic@db/shop?sslmode=disable", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, missing := ExpandURL(tt.tmpl, lookup)
			if got != tt.want || missing != tt.missing {
				t.Errorf("ExpandURL(%q) = %q, %q; want %q, %q", tt.tmpl, got, missing, tt.want, tt.missing)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://postgres:secret@127.0.0.1:5432/test?sslmode=disable", "postgres://xxxxx@127.0.0.1:5432/test?sslmode=disable"},
		{"postgres://postgres@127.0.0.1/test", "postgres://xxxxx@127.0.0.1/test"},
		// Unencoded: a URL parser would take "b" for the host.
		{"postgres://postgres:a@b/c@127.0.0.1:5432/test", "postgres://xxxxx@127.0.0.1:5432/test"},
		{"postgres://u:p@ss/w:rd#x?y@db/shop", "postgres://xxxxx@db/shop"},
		{"postgres://db/shop?sslmode=disable&password=hunter2&x=1", "postgres://db/shop?sslmode=disable&password=xxxxx&x=1"},
		{"postgres://db/shop", "postgres://db/shop"},
		{"sqlite://.bic/bic.db", "sqlite://.bic/bic.db"},
		{"u:secret@db", "xxxxx@db"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCheckURLAuthority(t *testing.T) {
	for raw, ambiguous := range map[string]bool{
		"postgres://postgres:a@b/c@127.0.0.1/test": true,
		"postgres://u:pa#ss@db/shop":               true,
		"postgres://u:pa?ss@db/shop":               true,
		"postgres://u:p%40ss@db/shop?x=1":          false,
		"postgres://db/shop":                       false,
		"${env:URL}":                               false,
	} {
		if err := CheckURLAuthority(raw); (err != nil) != ambiguous || err != nil && !errors.Is(err, ErrAmbiguousURL) {
			t.Errorf("CheckURLAuthority(%q) = %v, want ambiguous %v", raw, err, ambiguous)
		}
	}
}

func TestRedactError(t *testing.T) {
	base := errors.New("failed to connect to host p@ss: lookup p@ss failed")
	err := RedactError(base, "", "p@ss")
	if err.Error() != "failed to connect to host xxxxx: lookup xxxxx failed" || !errors.Is(err, base) {
		t.Errorf("RedactError = %q (is base: %v)", err, errors.Is(err, base))
	}
	if RedactError(base, "other", "p@s") != base || RedactError(nil, "x") != nil {
		t.Error("RedactError changed an error without the secret")
	}
}

func TestEnvRefs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"postgres://${env:PG_USER}:${env:PG_PASSWORD}@db/${env:PG_USER}", []string{"PG_USER", "PG_PASSWORD"}},
		{"${env:1BAD} ${env:} $env:X {env:Y}", nil},
		{"${env:a_1}${env:B}", []string{"a_1", "B"}},
	} {
		if got := EnvRefs(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("EnvRefs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{"shop": true, "shop_2": true, "a": true, "": false, "Shop": false, "2shop": false, "shop-2": false, "_shop": false, "shöp": false} {
		if got := ValidName(name); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", name, got, want)
		}
	}
}
