package analyze

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func readAllLines(t testing.TB, data []byte, f Format) (lines []Line, bad []*LineError, err error) {
	rd, err := NewReader(bytes.NewReader(data), f)
	if err != nil {
		return nil, nil, err
	}
	defer rd.Close()
	for {
		l, err := rd.Next()
		if err == io.EOF {
			return lines, bad, nil
		}
		var le *LineError
		if errors.As(err, &le) {
			bad = append(bad, le)
			continue
		}
		if err != nil {
			return lines, bad, err
		}
		lines = append(lines, l)
	}
}

func TestReaderQuotedFieldsAndResync(t *testing.T) {
	t.Parallel()
	data := "Customer,Order,Date,Quantity,Price,Note\n" +
		"a,1,2024-01-02 10:00,2,1.25,\"plain, with comma\"\n" +
		"a,2,2024-01-03,1,3,\"two\nlines\"\n" + // lines 3-4
		"b,3,2024-01-04,1,\"2.50\",\"say \"\"hi\"\"\"\n" + // line 5
		"c,4,2024-01-05,1,1,\"never closed\n" + // line 6: malformed
		"d,5,2024-01-06,1,1,ok\n" + // line 7: kept
		"e,6,2024-01-07,1,1,\"x\"y\n" // line 8: junk after a quote
	lines, bad, err := readAllLines(t, []byte(data), Format{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, l := range lines {
		ids = append(ids, l.Customer+"@"+strconv.Itoa(l.Num))
	}
	if got := strings.Join(ids, " "); got != "a@2 a@3 b@5 d@7" {
		t.Errorf("lines %s, want a@2 a@3 b@5 d@7", got)
	}
	if len(bad) != 2 || bad[0].Num != 6 || bad[1].Num != 8 {
		t.Errorf("malformed %v, want lines 6 and 8", bad)
	}
	if lines[0].Amount != 25000 || !lines[0].Time.Equal(time.Date(2024, 1, 2, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("line 2 = %+v, want amount 2.5000 at 2024-01-02 10:00", lines[0])
	}
}

func TestReaderGzipAndWhitespace(t *testing.T) {
	t.Parallel()
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	io.WriteString(zw, " customer_id  date number_of_cds  dollar_value\n 00001 19970101  1   11.77\n\n 00002 19970112  5   77.00\n")
	zw.Close()
	lines, bad, err := readAllLines(t, zb.Bytes(), Format{})
	if err != nil || len(bad) != 0 {
		t.Fatalf("err %v, bad %v", err, bad)
	}
	if len(lines) != 2 || lines[1].Customer != "00002" || lines[1].Amount != 770000 || lines[1].Num != 4 || lines[1].Time.Day() != 12 {
		t.Errorf("lines %+v", lines)
	}
}

func TestParseDecimal4(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{"1": 10000, "-2.5": -25000, "1,234.56": 12345600, "$3.99": 39900, "0.00005": 1, "+.5": 5000, "£-1": -10000} {
		got, err := parseDecimal4(in)
		if err != nil || got != want {
			t.Errorf("parseDecimal4(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-", "1.2.3", "abc", "1e5", "99999999999999999999"} {
		if _, err := parseDecimal4(bad); err == nil {
			t.Errorf("parseDecimal4(%q) accepted", bad)
		}
	}
}

// FuzzReader feeds arbitrary bytes, in every delimiter mode, to the reader:
// it must never panic, never loop, and every line it returns must carry a
// line number within the input.
func FuzzReader(f *testing.F) {
	f.Add([]byte("customer_id,order_id,date,amount\na,1,2024-01-01,3\n"), uint8(0))
	f.Add([]byte("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\nC536379,D,Discount,-1,2010-12-01 09:41:00,27.5,14527,United Kingdom\n"), uint8(0))
	f.Add([]byte(" 00001 0001 19970101  1   11.77\n"), uint8(2))
	f.Add([]byte("a;b;c\n\"x\n"), uint8(1))
	f.Add([]byte{0x1f, 0x8b, 0, 0}, uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		formats := []Format{
			{},
			{Delimiter: ";", CustomerCol: "1", DateCol: "2", AmountCol: "3", NoHeader: true},
			{Preset: "cdnow-sample"},
			{Delimiter: "\t", CustomerCol: "a", DateCol: "b", QuantityCol: "c", PriceCol: "d", DateFormat: "unix"},
		}
		fm := formats[int(mode)%len(formats)]
		rd, err := NewReader(bytes.NewReader(data), fm)
		if err != nil {
			return
		}
		defer rd.Close()
		maxLines := bytes.Count(data, []byte("\n")) + 1
		for i := 0; i <= maxLines+1; i++ {
			l, err := rd.Next()
			if err == io.EOF {
				return
			}
			var le *LineError
			if err != nil && !errors.As(err, &le) {
				return // fatal errors end reading
			}
			if err == nil && (l.Num < 1 || l.Num > maxLines) {
				t.Fatalf("line number %d outside 1..%d", l.Num, maxLines)
			}
		}
		if !bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
			t.Fatalf("more records than lines (%d)", maxLines)
		}
	})
}

// FuzzRun runs the whole command on arbitrary files: errors are fine,
// panics are not, and JSON output must stay well-formed.
func FuzzRun(f *testing.F) {
	f.Add([]byte("customer_id,order_id,date,amount\na,1,2024-01-01,3\na,2,2024-02-01,4\nb,3,2024-01-05,-1\n"))
	f.Add([]byte("InvoiceNo,Quantity,UnitPrice,InvoiceDate,CustomerID\nC1,-1,2.5,2010-12-01 09:41:00,14527\n2,3,0,2010-12-01 09:41:00,14527\n"))
	f.Add([]byte(" customer_id  date number_of_cds  dollar_value\n 00001 19970101  1   11.77\n 00001 99999999 1 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "orders")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		err := Run(context.Background(), Options{Orders: path, AsOf: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), CalibrationEnd: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), Output: "json"}, &out)
		if err == nil && !json.Valid(out.Bytes()) {
			t.Fatalf("invalid JSON output:\n%s", out.String())
		}
	})
}
