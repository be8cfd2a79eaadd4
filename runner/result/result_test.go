package result

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/bic-dev/bic/runner/warehouse"
)

func sample() *Result {
	return &Result{
		Columns: []warehouse.Column{{Name: "day", Type: "time"}, {Name: "name", Type: "string"}, {Name: "n", Type: "integer"}, {Name: "x", Type: "number"}, {Name: "d", Type: "decimal"}, {Name: "ok", Type: "boolean"}},
		Values: [][]any{
			{"2025-01-01T00:00:00+01:00", "2025-01-02T00:00:00+01:00", nil},
			{"plain", "comma, \"quoted\"\nnewline <b>&é", " padded "},
			{int64(1), int64(-2), nil},
			{1.5, math.NaN(), 1e21},
			{warehouse.Decimal("12345678901234567890.123"), warehouse.Decimal("-0.5"), warehouse.Decimal("NaN")},
			{true, false, nil},
		},
		Rows: 3,
	}
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	n, err := WriteJSON(&buf, sample().Iter())
	if err != nil || n != 3 {
		t.Fatalf("WriteJSON = %d, %v", n, err)
	}
	want := `{"columns":[{"name":"day","type":"time"},{"name":"name","type":"string"},{"name":"n","type":"integer"},{"name":"x","type":"number"},{"name":"d","type":"decimal"},{"name":"ok","type":"boolean"}],"rows":[` +
		`["2025-01-01T00:00:00+01:00","plain",1,1.5,12345678901234567890.123,true],` +
		`["2025-01-02T00:00:00+01:00","comma, \"quoted\"\nnewline \u003cb\u003e\u0026é",-2,null,-0.5,false],` +
		`[null," padded ",null,1e+21,"NaN",null]]}` + "\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
	// The document is JSON, and keeps the decimal's digits.
	dec := json.NewDecoder(&buf)
	dec.UseNumber()
	var doc struct{ Rows [][]any }
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if got := doc.Rows[0][4].(json.Number).String(); got != "12345678901234567890.123" {
		t.Errorf("decimal = %s", got)
	}
}

func TestWriteCSV(t *testing.T) {
	var buf bytes.Buffer
	if _, err := WriteCSV(&buf, sample().Iter()); err != nil {
		t.Fatal(err)
	}
	want := "day,name,n,x,d,ok\r\n" +
		"2025-01-01T00:00:00+01:00,plain,1,1.5,12345678901234567890.123,true\r\n" +
		"2025-01-02T00:00:00+01:00,\"comma, \"\"quoted\"\"\nnewline <b>&é\",-2,,-0.5,false\r\n" +
		",\" padded \",,1000000000000000000000,NaN,\r\n"
	if buf.String() != want {
		t.Errorf("got\n%q\nwant\n%q", buf.String(), want)
	}
	// An independent reader gets the fields back.
	recs, err := csv.NewReader(strings.NewReader(buf.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if recs[2][1] != "comma, \"quoted\"\nnewline <b>&é" || recs[3][1] != " padded " {
		t.Errorf("round trip: %q", recs)
	}
}

type failingRows struct{ *resultRows }

func (failingRows) Err() error { return errors.New("connection reset") }

func TestEncodersReportRowErrors(t *testing.T) {
	rows := failingRows{sample().Iter().(*resultRows)}
	if _, err := WriteCSV(&bytes.Buffer{}, rows); err == nil {
		t.Error("WriteCSV hid the rows' error")
	}
	rows = failingRows{sample().Iter().(*resultRows)}
	if _, err := WriteJSON(&bytes.Buffer{}, rows); err == nil {
		t.Error("WriteJSON hid the rows' error")
	}
}

// generated yields n synthetic rows without holding them.
// Its values are boxed once up front, so that the benchmark's allocations
// are the encoder's own.
type generated struct {
	n, i  int
	row   []any
	day   []any
	ints  []any
	reals []any
}

func newGenerated(n int) *generated {
	g := &generated{n: n, row: make([]any, 5)}
	for d := range 28 {
		g.day = append(g.day, fmt.Sprintf("2025-02-%02dT00:00:00+01:00", d+1))
	}
	for i := range 1000 {
		g.ints = append(g.ints, int64(i*7919))
		g.reals = append(g.reals, float64(i)*1.25)
	}
	return g
}

func (g *generated) Columns() []warehouse.Column {
	return []warehouse.Column{{Name: "day", Type: "time"}, {Name: "country", Type: "string"}, {Name: "orders", Type: "integer"}, {Name: "revenue", Type: "number"}, {Name: "margin", Type: "decimal"}}
}
func (g *generated) Err() error    { return nil }
func (g *generated) Values() []any { return g.row }
func (g *generated) Next() bool {
	if g.i >= g.n {
		return false
	}
	g.row[0] = g.day[g.i%28]
	g.row[1] = "DE"
	g.row[2] = g.ints[g.i%1000]
	g.row[3] = g.reals[g.i%1000]
	g.row[4] = decimalValue
	g.i++
	return true
}

var decimalValue any = warehouse.Decimal("1234.56")

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// BenchmarkEncoders encodes a million-row result; rows/s is the figure, and
// B/op stays flat as rows grow because nothing is held.
func BenchmarkEncoders(b *testing.B) {
	for _, rows := range []int{100_000, 1_000_000} {
		for name, enc := range map[string]func(w *countingWriter, r Rows) (int, error){
			"csv":  func(w *countingWriter, r Rows) (int, error) { return WriteCSV(w, r) },
			"json": func(w *countingWriter, r Rows) (int, error) { return WriteJSON(w, r) },
		} {
			b.Run(fmt.Sprintf("%s/%d_rows", name, rows), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := enc(&countingWriter{}, newGenerated(rows)); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}
