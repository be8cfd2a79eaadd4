package site

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/bic-dev/bic/compiler"
)

// numberFormat is how a metric's values are written (docs/language.md,
// 3.2): a plain number, a currency or a percentage, with a number of
// decimals. bic.js formats the same way, with Intl.NumberFormat("en-US"),
// so a value reads the same in the page as first rendered and after a
// redraw.
type numberFormat struct {
	Format   string `json:"format"` // number, currency or percent
	Currency string `json:"currency,omitempty"`
	Decimals *int   `json:"decimals,omitempty"`
}

func formatOf(m compiler.Metric) numberFormat {
	f := numberFormat{Format: m.Format, Currency: m.Currency, Decimals: m.Decimals}
	if f.Format == "" {
		f.Format = "number"
	}
	return f
}

// currencySymbols are the symbols Intl.NumberFormat("en-US") writes; any
// other currency is written as its code and a space.
var currencySymbols = map[string]string{"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "INR": "₹", "CNY": "CN¥", "CAD": "CA$", "AUD": "A$"}

// minMaxDecimals is how many decimals a value of the format shows: at
// least lo and at most hi.
func (f numberFormat) minMaxDecimals() (lo, hi int) {
	if f.Decimals != nil {
		return *f.Decimals, *f.Decimals
	}
	switch f.Format {
	case "currency":
		if f.Currency == "JPY" {
			return 0, 0
		}
		return 2, 2
	case "percent":
		return 0, 1
	}
	return 0, 2
}

// format writes a value: a JSON number, or a number written as a string
// (an exact decimal). Anything else is written as it is, and null as "–".
func (f numberFormat) format(v any) string {
	x, ok := toNumber(v)
	if !ok {
		if v == nil {
			return "–"
		}
		return fmt.Sprint(v)
	}
	if f.Format == "percent" {
		x *= 100
	}
	lo, hi := f.minMaxDecimals()
	s := groupThousands(fixed(math.Abs(x), lo, hi))
	switch f.Format {
	case "percent":
		s += "%"
	case "currency":
		if sym, ok := currencySymbols[f.Currency]; ok {
			s = sym + s
		} else if f.Currency != "" {
			s = f.Currency + "\u00a0" + s
		}
	}
	if x < 0 && strings.ContainsAny(s, "123456789") {
		s = "-" + s
	}
	return s
}

// fixed writes x with at least lo and at most hi decimals.
func fixed(x float64, lo, hi int) string {
	s := strconv.FormatFloat(x, 'f', hi, 64)
	if hi > lo {
		dot := strings.IndexByte(s, '.')
		keep := len(s)
		for keep > dot+1+lo && s[keep-1] == '0' {
			keep--
		}
		if keep == dot+1 {
			keep = dot
		}
		s = s[:keep]
	}
	return s
}

// groupThousands puts a comma between each group of three digits of the
// integer part.
func groupThousands(s string) string {
	intPart, frac, hasFrac := strings.Cut(s, ".")
	if len(intPart) > 3 {
		var b strings.Builder
		first := len(intPart) % 3
		if first > 0 {
			b.WriteString(intPart[:first])
		}
		for i := first; i < len(intPart); i += 3 {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(intPart[i : i+3])
		}
		intPart = b.String()
	}
	if hasFrac {
		return intPart + "." + frac
	}
	return intPart
}

func toNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case string:
		f, err := strconv.ParseFloat(n, 64)
		return f, err == nil
	}
	return 0, false
}

// formatTime writes an ISO 8601 time of the data as its grain reads:
// the data's times are already on the project's wall clock, so only the
// parts the grain keeps are shown.
func formatTime(s, grain string) string {
	if len(s) < 10 {
		return s
	}
	switch grain {
	case "year":
		return s[:4]
	case "quarter":
		m, err := strconv.Atoi(s[5:7])
		if err != nil {
			return s[:7]
		}
		return fmt.Sprintf("%s Q%d", s[:4], (m-1)/3+1)
	case "month":
		return s[:7]
	case "week", "day":
		return s[:10]
	}
	if len(s) >= 16 && s[10] == 'T' {
		return s[:10] + " " + s[11:16]
	}
	return s[:10]
}

// formatCell writes a value of a non-metric column.
func formatCell(v any, colType, grain string) string {
	switch x := v.(type) {
	case nil:
		return "–"
	case string:
		if colType == "time" {
			return formatTime(x, grain)
		}
		return x
	case json.Number:
		return numberFormat{Format: "number"}.format(x)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}
