package superset

import "testing"

func TestTimeRange(t *testing.T) {
	for _, c := range []struct{ in, want, msg string }{
		{"No filter", "", ""},
		{"", "", ""},
		{"Last day", "yesterday", ""},
		{"Last week", "last_7_days", ""},
		{"Last month", "last_30_days", `time range "Last month" has no exact bic form; it is read as last_30_days`},
		{"previous calendar month", "previous_month", ""},
		{"Current quarter", "this_quarter", ""},
		{`DATEADD(DATETIME("today"), -3, month) : today`, "last_3_months", ""},
		{"2003-01-01T00:00:00 : 2005-06-01T00:00:00", "2003-01-01..2005-05-31", ""},
		{"2003-01-01 : 2005-06-01T12:00:00", "2003-01-01..2005-06-01", ""},
		{"2020-01-01T00:00:00 : ", "2020-01-01..", ""},
		{"2020-01-01 : now", "2020-01-01..", ""},
		{"2021-01-01 : 2020-01-01", "", `time range "2021-01-01 : 2020-01-01" has no bic equivalent; left out`},
		{"Last 3 fortnights", "", `time range "Last 3 fortnights" has no bic equivalent; left out`},
	} {
		got, msg := timeRange(c.in)
		if got != c.want || msg != c.msg {
			t.Errorf("timeRange(%q) = %q, %q; want %q, %q", c.in, got, msg, c.want, c.msg)
		}
	}
}

func TestSlug(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Quarterly Sales (By Product Line)", "quarterly_sales_by_product_line"},
		{"OrderDate", "order_date"},
		{"bot_profile__id", "bot_profile__id"},
		{"2fa enabled", "x_2fa_enabled"},
		{"Übersicht Café", "ubersicht_cafe"},
		{"???", "x"},
		{"# of Products Sold", "of_products_sold"},
	} {
		if got := slug(c.in, "x"); got != c.want {
			t.Errorf("slug(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestScalar(t *testing.T) {
	for _, c := range []struct {
		in   string
		flow bool
		want string
	}{
		{"plain words", false, "plain words"},
		{"true", false, `"true"`},
		{"10", false, `"10"`},
		{"a: b", false, `"a: b"`},
		{"${env:X}", false, `"${env:X}"`},
		{"#sales", false, `"#sales"`},
		{"sum(x)", true, `"sum(x)"`},
		{"a, b", true, `"a, b"`},
		{"-revenue", true, `"-revenue"`},
		{"line\nbreak", false, `"line\nbreak"`},
	} {
		if got := scalar(c.in, c.flow); got != c.want {
			t.Errorf("scalar(%q, %v) = %s, want %s", c.in, c.flow, got, c.want)
		}
	}
}
