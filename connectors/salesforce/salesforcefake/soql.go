package salesforcefake

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// This file holds the SOQL subset the fake understands:
//
//	SELECT f1, f2 | COUNT() FROM Object
//	  [WHERE cond] [ORDER BY f [ASC|DESC], …] [LIMIT n]
//
// cond is comparisons (= != <> < > <= >=), IN (…) and NOT IN (…) joined by
// AND / OR with parentheses. Literals are quoted strings with the SOQL
// backslash escapes, unquoted ISO-8601 date-times and dates, numbers, true,
// false and null. Anything else is a MALFORMED_QUERY, as on the platform.

type tokKind int

const (
	tkEOF tokKind = iota
	tkIdent
	tkString
	tkNumber
	tkDateTime
	tkOp
	tkComma
	tkLParen
	tkRParen
)

type token struct {
	kind tokKind
	text string // identifier, operator, or the decoded string literal
	pos  int
}

type soqlError struct {
	code string // MALFORMED_QUERY, INVALID_FIELD, INVALID_TYPE
	msg  string
}

func (e *soqlError) Error() string { return e.code + ": " + e.msg }

func malformed(format string, args ...any) error {
	return &soqlError{code: "MALFORMED_QUERY", msg: fmt.Sprintf(format, args...)}
}

func lex(q string) ([]token, error) {
	var out []token
	i := 0
	for i < len(q) {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == ',':
			out = append(out, token{kind: tkComma, text: ",", pos: i})
			i++
		case c == '(':
			out = append(out, token{kind: tkLParen, text: "(", pos: i})
			i++
		case c == ')':
			out = append(out, token{kind: tkRParen, text: ")", pos: i})
			i++
		case c == '\'':
			start := i
			i++
			var b strings.Builder
			closed := false
			for i < len(q) {
				ch := q[i]
				if ch == '\\' {
					if i+1 >= len(q) {
						return nil, malformed("unterminated escape at %d", i)
					}
					switch e := q[i+1]; e {
					case '\'', '"', '\\':
						b.WriteByte(e)
					case 'n':
						b.WriteByte('\n')
					case 'r':
						b.WriteByte('\r')
					case 't':
						b.WriteByte('\t')
					case 'b':
						b.WriteByte('\b')
					case 'f':
						b.WriteByte('\f')
					case '_', '%':
						b.WriteByte('\\')
						b.WriteByte(e)
					default:
						return nil, malformed("invalid escape sequence \\%c at %d", e, i)
					}
					i += 2
					continue
				}
				if ch == '\'' {
					closed = true
					i++
					break
				}
				b.WriteByte(ch)
				i++
			}
			if !closed {
				return nil, malformed("unterminated string literal at %d", start)
			}
			out = append(out, token{kind: tkString, text: b.String(), pos: start})
		case c == '=' || c == '<' || c == '>' || c == '!':
			start := i
			i++
			if i < len(q) && (q[i] == '=' || (c == '<' && q[i] == '>')) {
				i++
			}
			op := q[start:i]
			if op == "!" {
				return nil, malformed("unexpected '!' at %d", start)
			}
			out = append(out, token{kind: tkOp, text: op, pos: start})
		case c >= '0' && c <= '9' || c == '-' || c == '+':
			start := i
			i++
			for i < len(q) && (isAlnum(q[i]) || q[i] == '.' || q[i] == ':' || q[i] == '-' || q[i] == '+') {
				i++
			}
			t := q[start:i]
			if strings.ContainsAny(t, "T:") || strings.Count(t, "-") >= 2 {
				out = append(out, token{kind: tkDateTime, text: t, pos: start})
			} else {
				out = append(out, token{kind: tkNumber, text: t, pos: start})
			}
		case isAlnum(c) || c == '_':
			start := i
			for i < len(q) && (isAlnum(q[i]) || q[i] == '_' || q[i] == '.') {
				i++
			}
			out = append(out, token{kind: tkIdent, text: q[start:i], pos: start})
		default:
			return nil, malformed("unexpected character %q at %d", c, i)
		}
	}
	out = append(out, token{kind: tkEOF, pos: len(q)})
	return out, nil
}

func isAlnum(c byte) bool {
	return c < 128 && (unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c)))
}

// query is a parsed SOQL statement.
type query struct {
	fields []string
	count  bool
	object string
	where  cond
	order  []orderKey
	limit  int // -1: none
}

type orderKey struct {
	field string
	desc  bool
}

type cond interface {
	eval(r *record) bool
}

type andCond struct{ l, r cond }
type orCond struct{ l, r cond }
type notCond struct{ c cond }

func (c andCond) eval(r *record) bool { return c.l.eval(r) && c.r.eval(r) }
func (c orCond) eval(r *record) bool  { return c.l.eval(r) || c.r.eval(r) }
func (c notCond) eval(r *record) bool { return !c.c.eval(r) }

type cmpCond struct {
	field string
	op    string
	lit   any // string, float64, time.Time, bool, nil
}

type inCond struct {
	field string
	lits  []any
	not   bool
}

func (c cmpCond) eval(r *record) bool {
	v := r.value(c.field)
	if c.lit == nil || v == nil {
		switch c.op {
		case "=":
			return c.lit == nil && v == nil
		case "!=", "<>":
			return (c.lit == nil) != (v == nil)
		}
		return false
	}
	n, ok := compare(v, c.lit)
	if !ok {
		return false
	}
	switch c.op {
	case "=":
		return n == 0
	case "!=", "<>":
		return n != 0
	case "<":
		return n < 0
	case "<=":
		return n <= 0
	case ">":
		return n > 0
	case ">=":
		return n >= 0
	}
	return false
}

func (c inCond) eval(r *record) bool {
	v := r.value(c.field)
	found := false
	for _, l := range c.lits {
		if n, ok := compare(v, l); ok && n == 0 {
			found = true
			break
		}
	}
	return found != c.not
}

// compare orders a stored value against a literal of a compatible type.
func compare(v, lit any) (int, bool) {
	switch l := lit.(type) {
	case string:
		s, ok := v.(string)
		if !ok {
			return 0, false
		}
		// Ids compare on their first 15 characters, case-sensitively;
		// other text compares case-insensitively, as SOQL does.
		return strings.Compare(strings.ToLower(s), strings.ToLower(l)), true
	case float64:
		var f float64
		switch x := v.(type) {
		case float64:
			f = x
		case string:
			var err error
			if f, err = strconv.ParseFloat(x, 64); err != nil {
				return 0, false
			}
		default:
			return 0, false
		}
		switch {
		case f < l:
			return -1, true
		case f > l:
			return 1, true
		}
		return 0, true
	case time.Time:
		t, ok := v.(time.Time)
		if !ok {
			return 0, false
		}
		return t.Compare(l), true
	case bool:
		b, ok := v.(bool)
		if !ok {
			return 0, false
		}
		if b == l {
			return 0, true
		}
		if !b {
			return -1, true
		}
		return 1, true
	}
	return 0, false
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tkEOF {
		p.i++
	}
	return t
}

func (p *parser) keyword(kw string) bool {
	t := p.peek()
	if t.kind == tkIdent && strings.EqualFold(t.text, kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectKeyword(kw string) error {
	if !p.keyword(kw) {
		t := p.peek()
		return malformed("expected %s at %d, found %q", kw, t.pos, t.text)
	}
	return nil
}

var reserved = map[string]bool{"SELECT": true, "FROM": true, "WHERE": true, "AND": true, "OR": true,
	"NOT": true, "ORDER": true, "BY": true, "LIMIT": true, "IN": true, "ASC": true, "DESC": true,
	"NULLS": true, "FIRST": true, "LAST": true}

func parseSOQL(q string) (*query, error) {
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	out := &query{limit: -1}
	if err := p.expectKeyword("SELECT"); err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind == tkIdent && strings.EqualFold(t.text, "COUNT") && p.toks[p.i+1].kind == tkLParen {
		p.i += 2
		if p.next().kind != tkRParen {
			return nil, malformed("COUNT takes no field in this subset")
		}
		out.count = true
	} else {
		for {
			t := p.next()
			if t.kind != tkIdent || reserved[strings.ToUpper(t.text)] {
				return nil, malformed("expected a field name at %d, found %q", t.pos, t.text)
			}
			out.fields = append(out.fields, t.text)
			if p.peek().kind != tkComma {
				break
			}
			p.next()
		}
	}
	if err := p.expectKeyword("FROM"); err != nil {
		return nil, err
	}
	// The object name may be a word SOQL reserves elsewhere (FROM Order).
	t := p.next()
	if t.kind != tkIdent {
		return nil, malformed("expected an object name at %d", t.pos)
	}
	out.object = t.text
	if p.keyword("WHERE") {
		c, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		out.where = c
	}
	if p.keyword("ORDER") {
		if err := p.expectKeyword("BY"); err != nil {
			return nil, err
		}
		for {
			f := p.next()
			if f.kind != tkIdent || reserved[strings.ToUpper(f.text)] {
				return nil, malformed("expected a field after ORDER BY at %d", f.pos)
			}
			k := orderKey{field: f.text}
			if p.keyword("DESC") {
				k.desc = true
			} else {
				p.keyword("ASC")
			}
			out.order = append(out.order, k)
			if p.peek().kind != tkComma {
				break
			}
			p.next()
		}
	}
	if p.keyword("LIMIT") {
		n := p.next()
		v, err := strconv.Atoi(n.text)
		if n.kind != tkNumber || err != nil || v < 0 {
			return nil, malformed("expected a number after LIMIT at %d", n.pos)
		}
		out.limit = v
	}
	if t := p.peek(); t.kind != tkEOF {
		return nil, malformed("unexpected token %q at %d", t.text, t.pos)
	}
	return out, nil
}

func (p *parser) parseOr() (cond, error) {
	l, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.keyword("OR") {
		r, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		l = orCond{l, r}
	}
	return l, nil
}

func (p *parser) parseAnd() (cond, error) {
	l, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for p.keyword("AND") {
		r, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		l = andCond{l, r}
	}
	return l, nil
}

func (p *parser) parseUnary() (cond, error) {
	if p.keyword("NOT") {
		c, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return notCond{c}, nil
	}
	if p.peek().kind == tkLParen {
		p.next()
		c, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if t := p.next(); t.kind != tkRParen {
			return nil, malformed("expected ')' at %d", t.pos)
		}
		return c, nil
	}
	f := p.next()
	if f.kind != tkIdent || reserved[strings.ToUpper(f.text)] {
		return nil, malformed("expected a field name at %d, found %q", f.pos, f.text)
	}
	not := false
	if p.keyword("NOT") {
		not = true
	}
	if p.keyword("IN") {
		if t := p.next(); t.kind != tkLParen {
			return nil, malformed("expected '(' after IN at %d", t.pos)
		}
		var lits []any
		for {
			l, err := p.literal()
			if err != nil {
				return nil, err
			}
			lits = append(lits, l)
			t := p.next()
			if t.kind == tkRParen {
				break
			}
			if t.kind != tkComma {
				return nil, malformed("expected ',' or ')' at %d", t.pos)
			}
		}
		return inCond{field: f.text, lits: lits, not: not}, nil
	}
	if not {
		return nil, malformed("expected IN after NOT at %d", p.peek().pos)
	}
	op := p.next()
	if op.kind != tkOp {
		return nil, malformed("expected an operator at %d, found %q", op.pos, op.text)
	}
	l, err := p.literal()
	if err != nil {
		return nil, err
	}
	return cmpCond{field: f.text, op: op.text, lit: l}, nil
}

func (p *parser) literal() (any, error) {
	t := p.next()
	switch t.kind {
	case tkString:
		return t.text, nil
	case tkNumber:
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, malformed("bad number %q at %d", t.text, t.pos)
		}
		return f, nil
	case tkDateTime:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700", "2006-01-02"} {
			if tm, err := time.Parse(layout, t.text); err == nil {
				return tm.UTC(), nil
			}
		}
		return nil, malformed("bad date-time literal %q at %d", t.text, t.pos)
	case tkIdent:
		switch strings.ToLower(t.text) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
	}
	return nil, malformed("expected a literal at %d, found %q", t.pos, t.text)
}

// fieldsUsed lists every field the query reads, for INVALID_FIELD checks.
func (q *query) fieldsUsed() []string {
	out := append([]string(nil), q.fields...)
	var walk func(c cond)
	walk = func(c cond) {
		switch x := c.(type) {
		case andCond:
			walk(x.l)
			walk(x.r)
		case orCond:
			walk(x.l)
			walk(x.r)
		case notCond:
			walk(x.c)
		case cmpCond:
			out = append(out, x.field)
		case inCond:
			out = append(out, x.field)
		}
	}
	if q.where != nil {
		walk(q.where)
	}
	for _, o := range q.order {
		out = append(out, o.field)
	}
	return out
}

// sortRecords orders rs by the query's ORDER BY (nulls first, as SOQL's
// default for ascending order). rs arrives in Id order, which a stable
// sort keeps for ties.
func (q *query) sortRecords(rs []*record) {
	if len(q.order) == 0 || (len(q.order) == 1 && q.order[0].field == "Id" && !q.order[0].desc) {
		return
	}
	slices.SortStableFunc(rs, func(x, y *record) int {
		for _, k := range q.order {
			a, b := x.value(k.field), y.value(k.field)
			var n int
			switch {
			case a == nil && b == nil:
				n = 0
			case a == nil:
				n = -1
			case b == nil:
				n = 1
			default:
				n, _ = compare(a, b)
			}
			if k.desc {
				n = -n
			}
			if n != 0 {
				return n
			}
		}
		return 0
	})
}
