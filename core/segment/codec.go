package segment

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// A converted customer can be kept in a compact binary form and decoded
// later, by another Builder, into the Customer converting the profile
// again would give: a caller that keeps its customers between runs (the
// connector stores them beside the profiles) then reads one small record
// per customer instead of the profile, its records, orders and line
// items.
//
// The encoding names categories, devices and channels rather than giving
// their codes, which belong to one Builder; the decoding Builder interns
// them as conversion does, and orders are kept in the order they were
// given (not sorted by day), so that a Builder decoding customers in the
// order another converted them gives every name the same code. Orders left out for their currency are kept
// as their key and currency, so decoding names them in the problems
// again. Times are whole days, as in OrderFact.
//
// An encoded customer is valid only under the conversion that made it:
// InputVersion identifies that conversion, and a caller keeping encoded
// customers must drop those made under another version.

// codecVersion changes whenever the encoding, or the conversion in a way
// inputSample does not show, changes.
const codecVersion = 1

// encoder collects what AppendCustomer writes beside the Customer: the
// names behind each kept order's codes and the orders left out.
type encoder struct {
	names   []string
	index   map[string]uint64
	orders  []encodedOrder
	skipped []string // order key, currency, …
}

// encodedOrder is one kept order with indexes into encoder.names (plus
// one; zero is the empty name).
type encodedOrder struct {
	fact            OrderFact
	device, channel uint64
	cats            []uint64
}

func (e *encoder) name(s string) uint64 {
	if s == "" {
		return 0
	}
	if i, ok := e.index[s]; ok {
		return i
	}
	if e.index == nil {
		e.index = map[string]uint64{}
	}
	e.names = append(e.names, s)
	e.index[s] = uint64(len(e.names))
	return e.index[s]
}

// AppendCustomer converts one profile and its orders, as Customer does,
// and appends the customer's encoding to dst.
func (b *Builder) AppendCustomer(dst []byte, p *domain.Profile, orders []domain.Order) (Customer, []byte) {
	var e encoder
	c := b.convert(p, orders, &e)
	dst = appendString(dst, c.Email)
	dst = appendAttrs(dst, c.Attrs)
	dst = binary.AppendUvarint(dst, uint64(len(e.names)))
	for _, n := range e.names {
		dst = appendString(dst, n)
	}
	dst = binary.AppendUvarint(dst, uint64(len(e.skipped)))
	for _, s := range e.skipped {
		dst = appendString(dst, s)
	}
	dst = binary.AppendUvarint(dst, uint64(len(e.orders)))
	var day int32
	for _, o := range e.orders {
		f := &o.fact
		dst = binary.AppendVarint(dst, f.Amount)
		dst = binary.AppendVarint(dst, int64(f.Day-day)) // mostly in order: small
		day = f.Day
		dst = binary.AppendVarint(dst, int64(f.Items))
		dst = append(dst, byte(f.Status))
		dst = binary.AppendUvarint(dst, o.device)
		dst = binary.AppendUvarint(dst, o.channel)
		dst = binary.AppendUvarint(dst, uint64(len(o.cats)))
		for _, c := range o.cats {
			dst = binary.AppendUvarint(dst, c)
		}
	}
	return c, dst
}

// DecodeCustomer decodes a customer AppendCustomer encoded, giving it the
// id given and this builder's codes, and returns what follows it in src.
// Orders the encoding names as left out are named in the problems.
func (b *Builder) DecodeCustomer(id string, src []byte) (Customer, []byte, error) {
	if b.strs == nil {
		b.strs = map[string]string{}
	}
	d := inputDecoder{src: src, strs: b.strs}
	c := Customer{ID: id, Email: d.string()}
	c.Attrs = d.attrs()
	names := make([]string, d.count())
	for i := range names {
		names[i] = d.shared()
	}
	for n := d.count(); n > 0 && d.err == nil; n -= 2 {
		key, cur := d.string(), d.string()
		b.leftOut(id, key, cur)
	}
	name := func(i uint64) string {
		if i == 0 {
			return ""
		}
		if i > uint64(len(names)) {
			d.fail("name %d of %d", i, len(names))
			return ""
		}
		return names[i-1]
	}
	n := d.count()
	if d.err == nil {
		c.Orders = make([]OrderFact, 0, n)
	}
	var day int32
	for ; n > 0 && d.err == nil; n-- {
		f := OrderFact{Amount: d.varint()}
		day += int32(d.varint())
		f.Day = day
		y, m := civil(day)
		f.Year, f.Month = uint16(y), uint8(m)
		f.Items = int32(d.varint())
		f.Status = Status(d.byte())
		f.Device = intern(b.devices, &b.ds.Devices, name(d.uvarint()))
		f.Channel = intern(b.channels, &b.ds.Channels, name(d.uvarint()))
		for k := d.count(); k > 0 && d.err == nil; k-- {
			f.Categories |= 1 << (uint(b.category(name(d.uvarint()))) % 64)
		}
		c.Orders = append(c.Orders, f)
	}
	slices.SortStableFunc(c.Orders, func(a, b OrderFact) int { return int(a.Day) - int(b.Day) })
	if d.err != nil {
		return Customer{}, nil, fmt.Errorf("decoding customer %s: %w", id, d.err)
	}
	return c, d.src, nil
}

// InputVersion identifies the conversion of profiles into customers for a
// dataset in currency, with its encoding: customers encoded under another
// version must be converted again. It is a hash of the encodings of a
// fixed sample of profiles, so a change to the conversion that the sample
// shows changes it by itself.
func InputVersion(currency string) uint64 {
	h := fnv.New64a()
	b := NewBuilder(currency)
	buf := binary.AppendUvarint(nil, codecVersion)
	buf = appendString(buf, b.ds.Currency)
	for _, s := range inputSample() {
		_, buf = b.AppendCustomer(buf, &s.p, s.orders)
	}
	buf = binary.AppendUvarint(buf, uint64(len(b.ds.Problems)))
	h.Write(buf)
	return h.Sum64()
}

type sampleCustomer struct {
	p      domain.Profile
	orders []domain.Order
}

// inputSample is a few profiles that use every field the conversion
// reads, with odd spellings it normalises.
func inputSample() []sampleCustomer {
	day := time.Date(2024, 2, 29, 23, 30, 0, 0, time.FixedZone("x", -3*3600))
	usd := func(a int64) domain.Money { return domain.Money{Amount: a, Currency: "USD"} }
	return []sampleCustomer{
		{p: domain.Profile{ID: "a", Emails: []string{" Ann@Example.COM "}, Gender: "F", BirthDate: "1980-07-01",
			Address: domain.Address{Country: "de", Region: "BE", City: "Berlin"}, LifecycleStage: "Customer",
			Attributes: map[string]string{"tier": "gold", "b": "1"}, CreatedAt: day.AddDate(-1, 0, 0),
			Company: &domain.Company{Industry: "Retail", Employees: 12, AnnualRevenue: usd(150000), Country: "fr"},
			Refs:    []domain.ExternalRef{{Platform: "woocommerce", ObjectType: "customer", ID: "1"}, {Platform: "hubspot", ObjectType: "contact", ID: "2"}}},
			orders: []domain.Order{
				{Ref: domain.ExternalRef{Platform: "woocommerce", ObjectType: "order", ID: "9"}, Status: domain.StatusCompleted, CreatedAt: day,
					Total: usd(5000), Refunded: usd(1000), Device: "Mobile", Channel: "Web",
					Items: []domain.LineItem{{Category: "Shoes", Quantity: 2}, {Category: "Hats", Quantity: 1}, {Quantity: 3}}},
				{Ref: domain.ExternalRef{Platform: "woocommerce", ObjectType: "order", ID: "8"}, Status: domain.StatusRefunded, CreatedAt: day.AddDate(0, -2, 0), Total: usd(700)},
				{Ref: domain.ExternalRef{Platform: "woocommerce", ObjectType: "order", ID: "7"}, Status: domain.StatusCompleted, CreatedAt: day, Total: domain.Money{Amount: 1, Currency: "EUR"}},
				{Ref: domain.ExternalRef{Platform: "hubspot", ObjectType: "deal", ID: "6"}, Status: domain.StatusOpen, CreatedAt: day.AddDate(0, 1, 0), Currency: "usd"},
			}},
		{p: domain.Profile{ID: "b"}},
	}
}

// civil returns the year and month of day d (days since 1970-01-01),
// with integer arithmetic (the proleptic Gregorian calendar's 400-year
// cycle), for decoding without a time.Time per order.
func civil(d int32) (year, month int) {
	z := int64(d) + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	m := mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	y := yoe + era*400
	if m <= 2 {
		y++
	}
	return int(y), int(m)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

const (
	hasBirth   = 1 << iota // Attrs.HasBirth
	hasCreated             // Attrs.HasCreated
)

func appendAttrs(dst []byte, a *Attrs) []byte {
	if a == nil {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	for _, s := range []string{a.Gender, a.Country, a.Region, a.City, a.Industry, a.LifecycleStage} {
		dst = appendString(dst, s)
	}
	dst = binary.AppendVarint(dst, a.Employees)
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(a.CompanyRevenue))
	var flags byte
	if a.HasBirth {
		flags |= hasBirth
	}
	if a.HasCreated {
		flags |= hasCreated
	}
	dst = append(dst, flags)
	dst = binary.AppendVarint(dst, int64(a.BirthDay))
	dst = binary.AppendVarint(dst, int64(a.CreatedDay))
	dst = binary.AppendUvarint(dst, uint64(len(a.Platforms)))
	for _, p := range a.Platforms {
		dst = appendString(dst, p)
	}
	dst = binary.AppendUvarint(dst, uint64(len(a.Custom)))
	for _, k := range slices.Sorted(maps.Keys(a.Custom)) {
		dst = appendString(dst, k)
		dst = appendString(dst, a.Custom[k])
	}
	return dst
}

// inputDecoder reads an encoded customer; the first error stops it and every later
// read returns zero values.
type inputDecoder struct {
	src  []byte
	err  error
	strs map[string]string // shared strings (see shared)
}

// Bounds of the strings a Builder shares between the customers it
// decodes: short ones, up to a number of distinct ones.
const (
	maxShared    = 64
	maxSharedLen = 1 << 16
)

// shared reads a string that many customers are likely to hold
// (attribute values and keys, category, device and channel names) and
// returns the one copy the builder keeps of it: a million customers then
// hold a few hundred strings, not millions.
func (d *inputDecoder) shared() string {
	n := d.count()
	if d.err != nil {
		return ""
	}
	b := d.src[:n]
	d.src = d.src[n:]
	if s, ok := d.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	if n <= maxShared && len(d.strs) < maxSharedLen {
		d.strs[s] = s
	}
	return s
}

func (d *inputDecoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
}

func (d *inputDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.src)
	if n <= 0 {
		d.fail("the encoding ends early")
		return 0
	}
	d.src = d.src[n:]
	return v
}

func (d *inputDecoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.src)
	if n <= 0 {
		d.fail("the encoding ends early")
		return 0
	}
	d.src = d.src[n:]
	return v
}

// count reads a length and checks it against what is left: every counted
// item takes at least a byte.
func (d *inputDecoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.src)) {
		d.fail("a count of %d with %d bytes left", n, len(d.src))
		return 0
	}
	return int(n)
}

func (d *inputDecoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.src) == 0 {
		d.fail("the encoding ends early")
		return 0
	}
	c := d.src[0]
	d.src = d.src[1:]
	return c
}

func (d *inputDecoder) string() string {
	n := d.count()
	if d.err != nil {
		return ""
	}
	s := string(d.src[:n])
	d.src = d.src[n:]
	return s
}

func (d *inputDecoder) attrs() *Attrs {
	if d.byte() == 0 {
		return nil
	}
	a := &Attrs{Gender: d.shared(), Country: d.shared(), Region: d.shared(), City: d.shared(),
		Industry: d.shared(), LifecycleStage: d.shared(), Employees: d.varint()}
	if len(d.src) < 8 {
		d.fail("the encoding ends early")
		return nil
	}
	a.CompanyRevenue = math.Float64frombits(binary.LittleEndian.Uint64(d.src))
	d.src = d.src[8:]
	flags := d.byte()
	a.HasBirth, a.HasCreated = flags&hasBirth != 0, flags&hasCreated != 0
	a.BirthDay, a.CreatedDay = int32(d.varint()), int32(d.varint())
	if n := d.count(); n > 0 {
		a.Platforms = make([]string, n)
		for i := range a.Platforms {
			a.Platforms[i] = d.shared()
		}
	}
	if n := d.count(); n > 0 {
		a.Custom = make(map[string]string, n)
		for ; n > 0; n-- {
			k := d.shared()
			a.Custom[k] = d.shared()
		}
	}
	return a
}
