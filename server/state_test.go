package server

import (
	"errors"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bic-dev/bic/compiler/query/filterstate"
)

func TestStateFromQuery(t *testing.T) {
	for _, c := range []struct {
		name, query string
		want        map[string]any
		wantErr     bool
	}{
		{name: "nothing", query: "", want: map[string]any{}},
		{name: "select", query: "region=EU", want: map[string]any{"region": "EU"}},
		{name: "select emptied", query: "region=", want: map[string]any{"region": nil}},
		{name: "select twice", query: "region=EU&region=US", wantErr: true},
		{name: "multi repeated", query: "country=FR&country=DE", want: map[string]any{"country": []any{"FR", "DE"}}},
		{name: "multi commas", query: "country=FR,DE,", want: map[string]any{"country": []any{"FR", "DE"}}},
		{name: "multi both", query: "country=FR,DE&country=IT", want: map[string]any{"country": []any{"FR", "DE", "IT"}}},
		{name: "multi empty", query: "country=", want: map[string]any{"country": nil}},
		{name: "number range", query: "price=1.5..20", want: map[string]any{"price": map[string]any{"min": "1.5", "max": "20"}}},
		{name: "number range negative", query: "price=-5..-1", want: map[string]any{"price": map[string]any{"min": "-5", "max": "-1"}}},
		{name: "number range open below", query: "price=..20", want: map[string]any{"price": map[string]any{"max": "20"}}},
		{name: "number range open", query: "price=..", want: map[string]any{"price": map[string]any{}}},
		{name: "number range without dots", query: "price=20", wantErr: true},
		{name: "date range named", query: "period=this_month", want: map[string]any{"period": "this_month"}},
		{name: "date range span", query: "period=2024-01-01..2024-02-01", want: map[string]any{"period": map[string]any{"from": "2024-01-01", "to": "2024-02-01"}}},
		{name: "date range from only", query: "period=2024-01-01..", want: map[string]any{"period": map[string]any{"from": "2024-01-01"}}},
		{name: "unknown kept for Normalize", query: "colour=red&colour=blue", want: map[string]any{"colour": "blue"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			q, err := url.ParseQuery(c.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := stateFromQuery(salesFilters, q)
			if c.wantErr {
				if !errors.Is(err, filterstate.ErrInvalidValue) {
					t.Fatalf("error %v, want one wrapping ErrInvalidValue", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(c.want, got); d != "" {
				t.Errorf("state (-want +got):\n%s", d)
			}
		})
	}
}

func TestNegotiate(t *testing.T) {
	for ae, want := range map[string]string{
		"":                     "",
		"gzip":                 "gzip",
		"GZIP":                 "gzip",
		"br":                   "br",
		"BR":                   "br",
		"br, gzip;q=0.5":       "br",
		"br;q=0, gzip":         "gzip",
		"gzip;q=0":             "",
		"gzip;q=0.0, *":        "br",
		"gzip;q=0, br;q=0, *":  "",
		"*":                    "br",
		"*;q=0":                "",
		"identity":             "",
		"deflate, x-gzip":      "gzip",
		"gzip;q=bad":           "",
		" gzip ; q=1 , br":     "br",
		"compress, deflate, *": "br",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Encoding", ae)
		if got := negotiate(r); got != want {
			t.Errorf("Accept-Encoding %q: %q, want %q", ae, got, want)
		}
	}
}
