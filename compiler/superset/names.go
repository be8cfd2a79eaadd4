package superset

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/bic-dev/bic/compiler"
)

// maxNameLen keeps generated names readable and file names short.
const maxNameLen = 60

// slug turns a Superset name ("Quarterly Sales (By Product Line)",
// "OrderDate") into a bic name (quarterly_sales_by_product_line,
// order_date): lower case, words joined by "_", starting with a letter.
// prefix is put in front when nothing is left or the name starts with a
// digit.
func slug(s, prefix string) string {
	var b strings.Builder
	prevLower := false
	sep := func() {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "_") {
			b.WriteByte('_')
		}
	}
	for _, r := range foldAccents(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			prevLower = r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		case r >= 'A' && r <= 'Z':
			if prevLower {
				sep() // camelCase → camel_case
			}
			b.WriteRune(unicode.ToLower(r))
			prevLower = false
		case r == '_':
			b.WriteRune(r) // kept as written: bot_profile__id stays a column name
			prevLower = false
		default:
			sep()
			prevLower = false
		}
	}
	name := strings.Trim(b.String(), "_")
	if len(name) > maxNameLen {
		name = strings.TrimRight(name[:maxNameLen], "_")
	}
	if name == "" {
		return prefix
	}
	if name[0] < 'a' || name[0] > 'z' {
		return prefix + "_" + name
	}
	return name
}

// accents maps the common accented Latin letters to their base letter.
var accents = strings.NewReplacer(
	"à", "a", "á", "a", "â", "a", "ã", "a", "ä", "a", "å", "a", "æ", "ae", "ç", "c",
	"è", "e", "é", "e", "ê", "e", "ë", "e", "ì", "i", "í", "i", "î", "i", "ï", "i",
	"ñ", "n", "ò", "o", "ó", "o", "ô", "o", "õ", "o", "ö", "o", "ø", "o", "œ", "oe",
	"ù", "u", "ú", "u", "û", "u", "ü", "u", "ý", "y", "ÿ", "y", "ß", "ss",
	"À", "A", "Á", "A", "Â", "A", "Ä", "A", "Å", "A", "Ç", "C", "É", "E", "È", "E",
	"Ö", "O", "Ø", "O", "Ü", "U", "Ñ", "N",
)

func foldAccents(s string) string { return accents.Replace(s) }

// namer hands out unique names within one scope, adding _2, _3… to repeats.
type namer struct{ used map[string]bool }

func newNamer() *namer { return &namer{used: map[string]bool{}} }

func (n *namer) take(name string) string {
	if !n.used[name] {
		n.used[name] = true
		return name
	}
	for i := 2; ; i++ {
		c := name + "_" + strconv.Itoa(i)
		if !n.used[c] {
			n.used[c] = true
			return c
		}
	}
}

// plainIdent reports whether s can stand unquoted in SQL as itself: a lower
// case identifier that is no keyword.
func plainIdent(s string) bool {
	if s == "" || compiler.IsSQLKeyword(s) || !(s[0] >= 'a' && s[0] <= 'z' || s[0] == '_') {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// quoteIdent quotes a column or table name for the warehouse of dialect
// (a bic connection type).
func quoteIdent(dialect, s string) string {
	switch dialect {
	case "bigquery":
		return "`" + strings.ReplaceAll(s, "`", "\\`") + "`"
	case "snowflake":
		// Snowflake keeps unquoted names in upper case; SQLAlchemy shows
		// them in lower case, so a lower-case name is the upper-case one.
		if strings.ToLower(s) == s {
			s = strings.ToUpper(s)
		}
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// sqlName is s as it must be written in SQL: bare when it can be, else quoted.
func sqlName(dialect, s string) string {
	if plainIdent(s) || dialect == "snowflake" && plainIdent(strings.ToLower(s)) && strings.ToUpper(s) == s {
		return s // Snowflake's own spelling of an unquoted name
	}
	return quoteIdent(dialect, s)
}
