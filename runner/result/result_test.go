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

	"github.com/google/go-cmp/cmp"

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

// TestCSVFormulaInjection: a text cell that a spreadsheet would run as a
// formula is prefixed with a single quote; numbers, negative ones too, are not.
func TestCSVFormulaInjection(t *testing.T) {
	r := &Result{
		Columns: []warehouse.Column{{Name: "name", Type: "string"}, {Name: "n", Type: "integer"}, {Name: "x", Type: "number"}, {Name: "d", Type: "decimal"}},
		Values: [][]any{
			{"=HYPERLINK(\"http://evil\")", "+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "plain", "a=b", ""},
			{int64(-3), int64(1), int64(2), int64(3), int64(4), int64(5), int64(6), int64(7), nil},
			{-3.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, nil},
			{warehouse.Decimal("-3.50"), warehouse.Decimal("1"), warehouse.Decimal("2"), warehouse.Decimal("3"), warehouse.Decimal("4"), warehouse.Decimal("5"), warehouse.Decimal("6"), warehouse.Decimal("7"), nil},
		},
		Rows: 9,
	}
	var buf bytes.Buffer
	if _, err := WriteCSV(&buf, r.Iter()); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(buf.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"name", "n", "x", "d"},
		{"'=HYPERLINK(\"http://evil\")", "-3", "-3.5", "-3.50"},
		{"'+1", "1", "1", "1"},
		{"'-2+3", "2", "2", "2"},
		{"'@SUM(A1)", "3", "3", "3"},
		{"'\tcmd", "4", "4", "4"},
		{"'\rcmd", "5", "5", "5"},
		{"plain", "6", "6", "6"},
		{"a=b", "7", "7", "7"},
		{"", "", "", ""},
	}
	if diff := cmp.Diff(want, recs); diff != "" {
		t.Errorf("CSV records (-want +got):\n%s", diff)
	}
	if !strings.Contains(buf.String(), "\"'\rcmd\"") {
		t.Errorf("a carriage return cell is not quoted and prefixed: %q", buf.String())
	}
}

// TestWriteJSONAndCSV: one pass over the rows writes the same bytes as the
// two encoders do separately.
func TestWriteJSONAndCSV(t *testing.T) {
	var wantJSON, wantCSV, gotJSON, gotCSV bytes.Buffer
	if _, err := WriteJSON(&wantJSON, sample().Iter()); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteCSV(&wantCSV, sample().Iter()); err != nil {
		t.Fatal(err)
	}
	once := &onceRows{Rows: sample().Iter()}
	n, err := WriteJSONAndCSV(once, &gotJSON, &gotCSV)
	if err != nil || n != 3 {
		t.Fatalf("WriteJSONAndCSV = %d, %v", n, err)
	}
	if once.nexts != 4 {
		t.Errorf("Next called %d times, want 4: the rows are read once", once.nexts)
	}
	if gotJSON.String() != wantJSON.String() {
		t.Errorf("JSON:\n%s\nwant\n%s", gotJSON.String(), wantJSON.String())
	}
	if gotCSV.String() != wantCSV.String() {
		t.Errorf("CSV:\n%q\nwant\n%q", gotCSV.String(), wantCSV.String())
	}
	// Large enough to flush mid-stream, the two outputs still agree.
	gotJSON.Reset()
	gotCSV.Reset()
	wantJSON.Reset()
	if _, err := WriteJSONAndCSV(newGenerated(20_000), &gotJSON, &gotCSV); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteJSON(&wantJSON, newGenerated(20_000)); err != nil {
		t.Fatal(err)
	}
	if gotJSON.String() != wantJSON.String() || strings.Count(gotCSV.String(), "\r\n") != 20_001 {
		t.Errorf("large result: JSON equal %v, CSV lines %d", gotJSON.String() == wantJSON.String(), strings.Count(gotCSV.String(), "\r\n"))
	}
	rows := failingRows{sample().Iter().(*resultRows)}
	if _, err := WriteJSONAndCSV(rows, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
		t.Error("WriteJSONAndCSV hid the rows' error")
	}
}

type onceRows struct {
	Rows
	nexts int
}

func (r *onceRows) Next() bool { r.nexts++; return r.Rows.Next() }
