package site

import (
	"encoding/json"
	"testing"
)

func TestNumberFormat(t *testing.T) {
	two, zero := 2, 0
	tests := []struct {
		name string
		f    numberFormat
		v    any
		want string
	}{
		{"integer", numberFormat{Format: "number"}, json.Number("1234567"), "1,234,567"},
		{"decimal trimmed", numberFormat{Format: "number"}, json.Number("1234.5"), "1,234.5"},
		{"decimal rounded", numberFormat{Format: "number"}, json.Number("0.126"), "0.13"},
		{"exact decimal", numberFormat{Format: "number"}, json.Number("104995.4400000000"), "104,995.44"},
		{"negative", numberFormat{Format: "number"}, json.Number("-1234"), "-1,234"},
		{"fixed decimals", numberFormat{Format: "number", Decimals: &two}, json.Number("3"), "3.00"},
		{"euro", numberFormat{Format: "currency", Currency: "EUR", Decimals: &zero}, json.Number("104995.44"), "€104,995"},
		{"dollar cents", numberFormat{Format: "currency", Currency: "USD"}, json.Number("-12.5"), "-$12.50"},
		{"other currency", numberFormat{Format: "currency", Currency: "CHF"}, json.Number("1000"), "CHF\u00a01,000.00"},
		{"percent", numberFormat{Format: "percent"}, json.Number("0.03379298604017705"), "3.4%"},
		{"percent decimals", numberFormat{Format: "percent", Decimals: &two}, 0.5, "50.00%"},
		{"number as text", numberFormat{Format: "number"}, "42.10", "42.1"},
		{"null", numberFormat{Format: "number"}, nil, "–"},
		{"not a number", numberFormat{Format: "number"}, "n/a", "n/a"},
		{"negative zero", numberFormat{Format: "number"}, json.Number("-0.001"), "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.format(tt.v); got != tt.want {
				t.Errorf("format(%v) = %q, want %q", tt.v, got, tt.want)
			}
		})
	}
}

func TestFormatTime(t *testing.T) {
	tests := []struct{ grain, want string }{
		{"year", "2025"}, {"quarter", "2025 Q4"}, {"month", "2025-11"}, {"week", "2025-11-03"},
		{"day", "2025-11-03"}, {"hour", "2025-11-03 14:00"}, {"", "2025-11-03 14:00"},
	}
	for _, tt := range tests {
		if got := formatTime("2025-11-03T14:00:00+01:00", tt.grain); got != tt.want {
			t.Errorf("formatTime(%q) = %q, want %q", tt.grain, got, tt.want)
		}
	}
}

func TestChange(t *testing.T) {
	tests := []struct {
		cur, prev          any
		arrow, text, class string
	}{
		{json.Number("110"), json.Number("100"), "▲", "+10.0%", "up"},
		{json.Number("75"), json.Number("100"), "▼", "-25.0%", "down"},
		{json.Number("100"), json.Number("100"), "→", "0%", "flat"},
		{json.Number("5"), json.Number("0"), "▲", "new", "up"},
		{json.Number("5"), nil, "", "no earlier data", "flat"},
		{json.Number("-50"), json.Number("-100"), "▲", "+50.0%", "up"},
	}
	for _, tt := range tests {
		a, s, c := change(tt.cur, tt.prev)
		if a != tt.arrow || s != tt.text || c != tt.class {
			t.Errorf("change(%v, %v) = %q %q %q, want %q %q %q", tt.cur, tt.prev, a, s, c, tt.arrow, tt.text, tt.class)
		}
	}
}
