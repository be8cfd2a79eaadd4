package compiler

import (
	"encoding/json"
	"math"
	"testing"
)

// TestCanonicalJSON: the fast canonical form gives the bytes of the round
// trip it replaced, for every fixture's manifest and for values made to
// trip it (escapes, invalid UTF-8, unsorted and odd keys, numbers).
func TestCanonicalJSON(t *testing.T) {
	type spec struct {
		Z      string         `json:"z"`
		A      []any          `json:"a,omitempty"`
		M      map[string]any `json:"m"`
		Inner  *spec          `json:"inner,omitempty"`
		Number float64        `json:"number"`
	}
	values := map[string]any{
		"nil":     nil,
		"empty":   map[string]any{},
		"list":    []any{},
		"escapes": "<a href=\"x\">&amp;</a> \\u003c \\\\u003c \u2028\u2029 \x00\x01\x1f\t\n\r\b\f é \xff\xfe ok \ufffd",
		"keys":    map[string]any{"b": 1, "a": 2, "<": 3, "&x": 4, "\xff": 5, "\u2028": 6, "é": 7, "A": 8, "a\\b": 9, "a\"b": 10, "": 11, "\ufffd": 12},
		"struct": spec{Z: "<z>", A: []any{1, "2", 3.5, nil, true, false, map[string]any{"y": 1, "x": []any{}}},
			M: map[string]any{"q": spec{Z: "in"}}, Inner: &spec{Z: "deep", Number: math.Copysign(0, -1)}, Number: 1e21},
		"numbers": []any{0, -1, 1.5, 1e-7, 1e300, math.MaxInt64, uint64(math.MaxUint64), -1e-300, 123456789.125},
	}
	c := newTestCompiler(t)
	for name, fsys := range differentialProjects(t) {
		if res := mustCompile(t, c, fsys); res.Manifest != nil {
			values[name] = res.Manifest
		}
	}
	for name, v := range values {
		got, err := CanonicalJSON(v)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		want, err := roundTripJSON(raw)
		if err != nil {
			t.Fatal(err)
		}
		// "keys" has two keys a round trip makes one (invalid UTF-8 and
		// U+FFFD): the fast form leaves that to it.
		if fast := (canonicalizer{src: raw}); name != "keys" && (!fast.value() || fast.pos != len(raw)) {
			t.Errorf("%s: the fast canonical form gave up", name)
		}
		if string(got) != string(want) {
			t.Errorf("%s: canonical JSON differs from the round trip:\n got %s\nwant %s", name, got, want)
		}
	}
}
