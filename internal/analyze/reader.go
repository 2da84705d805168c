package analyze

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Format says how to read an orders file. Empty fields take the defaults
// described in the command's help; ApplyPreset fills a named preset.
type Format struct {
	// Preset names a known export ("generic", "online-retail", "cdnow",
	// "cdnow-sample"); empty or "auto" recognises Online Retail and CDNOW
	// master files by their header line. Explicit fields win over it.
	Preset string
	// Delimiter is one character (",", ";", "\t", "|") or "whitespace" for
	// runs of spaces and tabs (the CDNOW text files). Default ",".
	Delimiter string
	// NoHeader says the first line is data; columns are then named by
	// 1-based position ("1", "2", …).
	NoHeader bool
	// Column names (case, spaces, "_" and "-" ignored) or 1-based
	// positions. Empty means: look the header up for the usual names.
	CustomerCol, OrderCol, DateCol, AmountCol, QuantityCol, PriceCol string
	// DateFormat is a Go time layout ("2006-01-02 15:04:05"), one of the
	// aliases iso, yyyymmdd, us (01/02/2006 15:04), eu (02/01/2006 15:04),
	// unix (seconds), or "auto" (default) to try the common layouts.
	DateFormat string
	// CancelPrefix marks an order id as a cancellation (Online Retail's
	// "C"). Empty: no prefix rule.
	CancelPrefix string
}

// Presets are named formats for well-known exports.
var presetNames = []string{"generic", "online-retail", "cdnow", "cdnow-sample"}

// ApplyPreset fills the empty fields of f from a named preset:
//
//	generic        comma-separated with a header; columns found by name.
//	online-retail  UCI Online Retail: InvoiceNo, Quantity, UnitPrice,
//	               InvoiceDate (2006-01-02 15:04:05 or 12/1/2010 8:26),
//	               CustomerID; "C" invoices are cancellations.
//	cdnow          CDNOW_master.txt: whitespace, header
//	               "customer_id date number_of_cds dollar_value", YYYYMMDD.
//	cdnow-sample   CDNOW_sample.txt: whitespace, no header, columns master
//	               id, sample id, YYYYMMDD date, CDs, dollars; customer =
//	               the master id (column 1).
func (f *Format) ApplyPreset(name string) error {
	set := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	switch strings.ToLower(name) {
	case "", "auto", "generic":
	case "online-retail":
		set(&f.Delimiter, ",")
		set(&f.CustomerCol, "CustomerID")
		set(&f.OrderCol, "InvoiceNo")
		set(&f.DateCol, "InvoiceDate")
		set(&f.QuantityCol, "Quantity")
		set(&f.PriceCol, "UnitPrice")
		set(&f.CancelPrefix, "C")
	case "cdnow":
		set(&f.Delimiter, "whitespace")
		set(&f.CustomerCol, "customer_id")
		set(&f.DateCol, "date")
		set(&f.QuantityCol, "number_of_cds")
		set(&f.AmountCol, "dollar_value")
		set(&f.DateFormat, "yyyymmdd")
	case "cdnow-sample":
		set(&f.Delimiter, "whitespace")
		f.NoHeader = true
		set(&f.CustomerCol, "1")
		set(&f.DateCol, "3")
		set(&f.QuantityCol, "4")
		set(&f.AmountCol, "5")
		set(&f.DateFormat, "yyyymmdd")
	default:
		return fmt.Errorf("unknown preset %q (known: %s)", name, strings.Join(presetNames, ", "))
	}
	return nil
}

// Synonyms tried, in order, for a column left empty.
var (
	customerNames = []string{"customerid", "customer", "customerno", "clientid", "userid", "contactid", "email", "customeremail", "billingemail", "masterid"}
	orderNames    = []string{"orderid", "invoiceno", "invoice", "ordernumber", "orderno", "transactionid", "receiptid"}
	dateNames     = []string{"orderdate", "invoicedate", "date", "createdat", "datecreated", "timestamp", "purchasedate", "transactiondate", "time"}
	amountNames   = []string{"amount", "total", "ordertotal", "revenue", "sales", "dollarvalue", "value", "grandtotal", "totalprice"}
	qtyNames      = []string{"quantity", "qty", "numberofcds", "cds", "items", "units"}
	priceNames    = []string{"unitprice", "price", "itemprice"}
)

func normName(s string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(strings.TrimPrefix(s, "\ufeff")) {
		if r == '_' || r == '-' || r == ' ' || r == '.' {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// Line is one parsed order line.
type Line struct {
	Num      int       // 1-based line number in the file
	Customer string    // empty when the row has no customer
	Order    string    // order id; empty when the file has no order column
	Time     time.Time // as written, read as UTC when it carries no zone
	Amount   int64     // line value in 1/10,000 of the currency unit
	Quantity int64     // 1/10,000 units; 0 when there is no quantity column
	HasQty   bool
	Price    int64 // unit price in 1/10,000, when the value is quantity × unit price
	HasPrice bool
}

// LineError is a malformed line: its number, the field and why.
type LineError struct {
	Num   int
	Field string
	Err   error
}

func (e *LineError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %v", e.Num, e.Err)
	}
	return fmt.Sprintf("line %d: %s: %v", e.Num, e.Field, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// Reader streams order lines from a CSV or whitespace-separated file,
// gzip-compressed or not (detected from the first bytes).
type Reader struct {
	f       Format
	br      *bufio.Reader // delimited mode
	delim   rune
	pending []physLine // lines read ahead and given back
	fields  []string
	sc      *bufio.Scanner
	line    int
	cols    colIndex
	dates   dateParser
	started bool
	closer  io.Closer
}

type colIndex struct {
	customer, order, date, amount, qty, price int // -1 when absent
	need                                      int // fields a row must have
}

// NewReader wraps r. Call Next until io.EOF; a *LineError reports one bad
// line and reading may go on; any other error is fatal.
func NewReader(r io.Reader, f Format) (*Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head, _ := br.Peek(2)
	var src io.Reader = br
	rd := &Reader{f: f}
	if len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("opening gzip stream: %w", err)
		}
		src, rd.closer = bufio.NewReaderSize(zr, 1<<16), zr
	}
	preset := f.Preset
	if preset == "" || strings.EqualFold(preset, "auto") {
		pb, ok := src.(*bufio.Reader)
		if !ok {
			pb = bufio.NewReaderSize(src, 1<<16)
			src = pb
		}
		first, _ := pb.Peek(4096)
		preset = sniff(first)
	}
	if err := f.ApplyPreset(preset); err != nil {
		return nil, err
	}
	if f.Delimiter == "" {
		f.Delimiter = ","
	}
	rd.f = f
	dp, err := newDateParser(f.DateFormat)
	if err != nil {
		return nil, err
	}
	rd.dates = dp
	switch {
	case strings.EqualFold(f.Delimiter, "whitespace") || f.Delimiter == " ":
		rd.sc = bufio.NewScanner(src)
		rd.sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	default:
		d := []rune(strings.ReplaceAll(f.Delimiter, `\t`, "\t"))
		if len(d) != 1 || d[0] == '"' || d[0] == '\r' || d[0] == '\n' {
			return nil, fmt.Errorf("delimiter %q: want one character or \"whitespace\"", f.Delimiter)
		}
		rd.br, _ = src.(*bufio.Reader)
		if rd.br == nil {
			rd.br = bufio.NewReaderSize(src, 1<<16)
		}
		rd.delim = d[0]
	}
	return rd, nil
}

// Close releases the gzip stream, if any; it does not close the source.
func (r *Reader) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// Columns describes the resolved column mapping (after the first Next).
func (r *Reader) Columns() map[string]int {
	m := map[string]int{}
	for name, i := range map[string]int{"customer": r.cols.customer, "order": r.cols.order, "date": r.cols.date,
		"amount": r.cols.amount, "quantity": r.cols.qty, "unit_price": r.cols.price} {
		if i >= 0 {
			m[name] = i + 1
		}
	}
	return m
}

// record returns the next raw record and its first line number.
func (r *Reader) record() ([]string, int, error) {
	if r.sc != nil {
		for r.sc.Scan() {
			r.line++
			fields := strings.Fields(r.sc.Text())
			if len(fields) == 0 {
				continue
			}
			return fields, r.line, nil
		}
		if err := r.sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				return nil, r.line + 1, fmt.Errorf("reading line %d: longer than 4 MiB", r.line+1)
			}
			return nil, r.line, fmt.Errorf("reading line %d: %w", r.line+1, err)
		}
		return nil, r.line, io.EOF
	}
	text, num, err := r.logicalLine()
	if err != nil {
		return nil, num, err
	}
	if strings.TrimSpace(text) == "" {
		return r.record()
	}
	r.fields, err = splitRecord(text, r.delim, r.fields[:0])
	if err != nil {
		return nil, num, &LineError{Num: num, Err: err}
	}
	return r.fields, num, nil
}

// physLine is one line of the file and its number.
type physLine struct {
	text string
	num  int
}

// Limits of a quoted field spanning lines.
const (
	maxRecordLines = 50
	maxRecordBytes = 1 << 20
)

func (r *Reader) physical() (physLine, error) {
	if n := len(r.pending); n > 0 {
		l := r.pending[n-1]
		r.pending = r.pending[:n-1]
		return l, nil
	}
	s, err := r.br.ReadString('\n')
	if err == io.EOF && s == "" {
		return physLine{}, io.EOF
	}
	if err != nil && err != io.EOF {
		return physLine{}, fmt.Errorf("reading line %d: %w", r.line+1, err)
	}
	r.line++
	return physLine{text: strings.TrimRight(s, "\r\n"), num: r.line}, nil
}

// logicalLine returns the next record's text: one line, or several when a
// quoted field holds line breaks. A quote left open after maxRecordLines
// lines (or at the end of the file) makes the first line malformed; the
// lines read after it are given back, so nothing else is lost.
func (r *Reader) logicalLine() (string, int, error) {
	first, err := r.physical()
	if err != nil {
		return "", r.line, err
	}
	if strings.Count(first.text, `"`)%2 == 0 {
		return first.text, first.num, nil
	}
	var b strings.Builder
	b.WriteString(first.text)
	quotes := strings.Count(first.text, `"`)
	var extra []physLine
	for len(extra) < maxRecordLines && b.Len() < maxRecordBytes {
		l, err := r.physical()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", l.num, err
		}
		extra = append(extra, l)
		b.WriteByte('\n')
		b.WriteString(l.text)
		quotes += strings.Count(l.text, `"`)
		if quotes%2 == 0 {
			return b.String(), first.num, nil
		}
	}
	for i := len(extra) - 1; i >= 0; i-- {
		r.pending = append(r.pending, extra[i])
	}
	return "", first.num, &LineError{Num: first.num, Err: errors.New("quoted field not closed")}
}

// splitRecord splits one CSV record (RFC 4180: fields may be quoted, a
// quote inside a quoted field is doubled) into dst. Spaces before a field
// are dropped.
func splitRecord(s string, delim rune, dst []string) ([]string, error) {
	for {
		s = strings.TrimLeft(s, " \t")
		if !strings.HasPrefix(s, `"`) {
			i := strings.IndexRune(s, delim)
			if i < 0 {
				return append(dst, s), nil
			}
			dst = append(dst, s[:i])
			s = s[i+utf8.RuneLen(delim):]
			continue
		}
		var b strings.Builder
		s = s[1:]
		for {
			i := strings.IndexByte(s, '"')
			if i < 0 {
				return dst, errors.New("quoted field not closed")
			}
			b.WriteString(s[:i])
			s = s[i+1:]
			if strings.HasPrefix(s, `"`) {
				b.WriteByte('"')
				s = s[1:]
				continue
			}
			break
		}
		dst = append(dst, b.String())
		rest := strings.TrimLeft(s, " \t")
		if rest == "" {
			return dst, nil
		}
		r, size := utf8.DecodeRuneInString(rest)
		if r != delim {
			return dst, fmt.Errorf("unexpected %q after a quoted field", r)
		}
		s = rest[size:]
	}
}

// start reads the header (unless NoHeader) and resolves the columns.
func (r *Reader) start() error {
	r.started = true
	var header []string
	if !r.f.NoHeader {
		rec, _, err := r.record()
		if err == io.EOF {
			return errors.New("the file is empty: expected a header line")
		}
		if err != nil {
			return fmt.Errorf("reading the header: %w", err)
		}
		header = append([]string(nil), rec...)
	}
	find := func(what, spec string, synonyms []string, required bool) (int, error) {
		if spec != "" {
			if n, err := strconv.Atoi(strings.TrimPrefix(spec, "#")); err == nil {
				if n < 1 {
					return -1, fmt.Errorf("%s column %q: positions start at 1", what, spec)
				}
				return n - 1, nil
			}
			for i, h := range header {
				if normName(h) == normName(spec) {
					return i, nil
				}
			}
			if header == nil {
				return -1, fmt.Errorf("%s column %q: the file has no header, give a 1-based position", what, spec)
			}
			return -1, fmt.Errorf("%s column %q not in the header %q", what, spec, header)
		}
		for _, s := range synonyms {
			for i, h := range header {
				if normName(h) == s {
					return i, nil
				}
			}
		}
		if required {
			return -1, fmt.Errorf("no %s column: name it with the %s flag (header: %q)", what, flagFor[what], header)
		}
		return -1, nil
	}
	var err error
	c := &r.cols
	if c.customer, err = find("customer", r.f.CustomerCol, customerNames, true); err != nil {
		return err
	}
	if c.date, err = find("date", r.f.DateCol, dateNames, true); err != nil {
		return err
	}
	if c.order, err = find("order", r.f.OrderCol, orderNames, false); err != nil {
		return err
	}
	if c.amount, err = find("amount", r.f.AmountCol, amountNames, false); err != nil {
		return err
	}
	if c.qty, err = find("quantity", r.f.QuantityCol, qtyNames, false); err != nil {
		return err
	}
	if c.price, err = find("unit price", r.f.PriceCol, priceNames, false); err != nil {
		return err
	}
	if c.amount < 0 && (c.qty < 0 || c.price < 0) {
		return fmt.Errorf("no amount column and no quantity and unit price pair: name them with --amount-col, or --quantity-col and --price-col (header: %q)", header)
	}
	if c.amount >= 0 {
		c.price = -1 // an amount column wins over quantity × price
	}
	c.need = max(c.customer, c.date, c.order, c.amount, c.qty, c.price) + 1
	return nil
}

var flagFor = map[string]string{"customer": "--customer-col", "date": "--date-col"}

// Next returns the next order line, io.EOF at the end, a *LineError for a
// malformed line (the caller records it and calls Next again), or another
// error that ends reading.
func (r *Reader) Next() (Line, error) {
	if !r.started {
		if err := r.start(); err != nil {
			return Line{}, err
		}
	}
	rec, num, err := r.record()
	if err != nil {
		return Line{Num: num}, err
	}
	c := &r.cols
	if len(rec) < c.need {
		return Line{Num: num}, &LineError{Num: num, Err: fmt.Errorf("%d fields, want at least %d", len(rec), c.need)}
	}
	l := Line{Num: num, Customer: strings.TrimSpace(rec[c.customer])}
	if c.order >= 0 {
		l.Order = strings.TrimSpace(rec[c.order])
	}
	if l.Time, err = r.dates.parse(strings.TrimSpace(rec[c.date])); err != nil {
		return l, &LineError{Num: num, Field: "date", Err: err}
	}
	if c.qty >= 0 {
		q, err := parseDecimal4(rec[c.qty])
		if err != nil {
			return l, &LineError{Num: num, Field: "quantity", Err: err}
		}
		l.Quantity, l.HasQty = q, true
	}
	if c.amount >= 0 {
		a, err := parseDecimal4(rec[c.amount])
		if err != nil {
			return l, &LineError{Num: num, Field: "amount", Err: err}
		}
		l.Amount = a
	} else {
		p, err := parseDecimal4(rec[c.price])
		if err != nil {
			return l, &LineError{Num: num, Field: "unit price", Err: err}
		}
		a, ok := mul4(l.Quantity, p)
		if !ok {
			return l, &LineError{Num: num, Field: "amount", Err: errors.New("quantity × unit price overflows")}
		}
		l.Amount, l.Price, l.HasPrice = a, p, true
	}
	return l, nil
}

// parseDecimal4 parses a decimal with up to 4 places exactly into units of
// 1/10,000 (more places are rounded half away from zero). Currency symbols
// and thousands separators (",") are ignored.
func parseDecimal4(s string) (int64, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimLeft(t, "$£€¥")
	if t == "" {
		return 0, errors.New("empty")
	}
	neg := false
	switch t[0] {
	case '-':
		neg, t = true, t[1:]
	case '+':
		t = t[1:]
	}
	t = strings.TrimLeft(t, "$£€¥")
	intPart, frac, _ := strings.Cut(t, ".")
	intPart = strings.ReplaceAll(intPart, ",", "")
	if intPart == "" && frac == "" {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	var v int64
	for _, ch := range intPart {
		if ch < '0' || ch > '9' {
			return 0, fmt.Errorf("%q is not a number", s)
		}
		if v > (1<<62)/10 {
			return 0, fmt.Errorf("%q is too large", s)
		}
		v = v*10 + int64(ch-'0')
	}
	for _, ch := range frac {
		if ch < '0' || ch > '9' {
			return 0, fmt.Errorf("%q is not a number", s)
		}
	}
	for i := range 4 {
		if v > (1<<62)/10 {
			return 0, fmt.Errorf("%q is too large", s)
		}
		v *= 10
		if i < len(frac) {
			v += int64(frac[i] - '0')
		}
	}
	if len(frac) > 4 && frac[4] >= '5' {
		v++
	}
	if neg {
		v = -v
	}
	return v, nil
}

// mul4 multiplies two 1/10,000 fixed-point numbers, rounding half away
// from zero; ok is false on overflow.
func mul4(a, b int64) (int64, bool) {
	neg := (a < 0) != (b < 0)
	ua, ub := abs64(a), abs64(b)
	if ua != 0 && ub > (1<<63-1)/ua {
		return 0, false
	}
	p := ua * ub
	q := (p + 5000) / 10000
	if neg {
		return -int64(q), true
	}
	return int64(q), true
}

func abs64(v int64) uint64 {
	if v < 0 {
		return uint64(-v)
	}
	return uint64(v)
}

// dateParser parses dates with a fixed layout or by trying common ones.
type dateParser struct {
	layouts []string
	unix    bool
	last    int
}

var autoLayouts = []string{
	time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02T15:04",
	"2006-01-02", "20060102", "2006/01/02 15:04:05", "2006/01/02", "1/2/2006 15:04:05", "1/2/2006 15:04", "1/2/2006",
	"2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05 -0700", "2006-01-02 15:04:05.999999999",
}

var layoutAliases = map[string]string{
	"iso": "2006-01-02", "yyyymmdd": "20060102", "us": "1/2/2006 15:04", "eu": "2/1/2006 15:04",
	"rfc3339": time.RFC3339Nano, "yyyy-mm-dd": "2006-01-02", "dd/mm/yyyy": "2/1/2006", "mm/dd/yyyy": "1/2/2006",
}

func newDateParser(format string) (dateParser, error) {
	switch f := strings.TrimSpace(format); {
	case f == "" || strings.EqualFold(f, "auto"):
		return dateParser{layouts: autoLayouts}, nil
	case strings.EqualFold(f, "unix"):
		return dateParser{unix: true}, nil
	default:
		if l, ok := layoutAliases[strings.ToLower(f)]; ok {
			f = l
		}
		if !strings.ContainsAny(f, "0123456789") {
			return dateParser{}, fmt.Errorf("date format %q is neither a Go layout (like 2006-01-02 15:04:05) nor an alias (auto, iso, yyyymmdd, us, eu, unix)", format)
		}
		ls := []string{f}
		// "us"/"eu" also accept a missing time and seconds.
		if strings.HasSuffix(f, " 15:04") {
			ls = append(ls, f+":05", strings.TrimSuffix(f, " 15:04"))
		}
		return dateParser{layouts: ls}, nil
	}
}

func (p *dateParser) parse(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("empty")
	}
	if p.unix {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v < 0 || v > 1e11 {
			return time.Time{}, fmt.Errorf("%q is not a unix time in seconds", s)
		}
		return time.Unix(int64(v), 0).UTC(), nil
	}
	n := len(p.layouts)
	for k := range n {
		i := (p.last + k) % n
		if t, err := time.Parse(p.layouts[i], s); err == nil {
			p.last = i
			return t.UTC(), nil
		}
	}
	if n == 1 {
		return time.Time{}, fmt.Errorf("%q does not match the layout %q", s, p.layouts[0])
	}
	return time.Time{}, fmt.Errorf("%q is not a date in a known format (set --date-format)", s)
}

// sniff peeks at data to tell a preset from a header line: it returns
// "online-retail" or "cdnow" when the first line is theirs, else "".
func sniff(first []byte) string {
	line, _, _ := bytes.Cut(first, []byte("\n"))
	h := normName(string(line))
	switch {
	case strings.Contains(h, "invoiceno") && strings.Contains(h, "unitprice") && strings.Contains(h, "customerid"):
		return "online-retail"
	case strings.Contains(h, "customerid") && strings.Contains(h, "numberofcds") && strings.Contains(h, "dollarvalue"):
		return "cdnow"
	}
	return ""
}
