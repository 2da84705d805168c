package klaviyofake

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// cond is one filter condition: op(field,args...).
type cond struct {
	op, field string
	args      []string // unquoted strings, or datetimes as given
}

// parseFilter reads the JSON:API filter syntax of Klaviyo's "Filtering"
// guide: conditions separated by commas (all must hold), optionally in
// and(...); string values quoted with " or ', lists in [...], datetimes
// unquoted.
func parseFilter(s string) ([]cond, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var out []cond
	for _, part := range splitTop(s) {
		part = strings.TrimSpace(part)
		open := strings.IndexByte(part, '(')
		if open < 0 || !strings.HasSuffix(part, ")") {
			return nil, fmt.Errorf("%q is not op(field,value)", part)
		}
		op, inner := part[:open], part[open+1:len(part)-1]
		if op == "and" {
			sub, err := parseFilter(inner)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
			continue
		}
		args := splitTop(inner)
		if len(args) != 2 {
			return nil, fmt.Errorf("%q needs a field and a value", part)
		}
		c := cond{op: op, field: strings.TrimSpace(args[0])}
		v := strings.TrimSpace(args[1])
		if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
			for _, x := range splitTop(v[1 : len(v)-1]) {
				c.args = append(c.args, unquote(strings.TrimSpace(x)))
			}
		} else {
			c.args = []string{unquote(v)}
		}
		out = append(out, c)
	}
	return out, nil
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// splitTop splits s at commas outside parentheses, brackets and quotes.
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '(' || c == '[':
			depth++
		case c == ')' || c == ']':
			depth--
		case c == ',' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// parseTime reads a filter datetime (RFC 3339, or a date).
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a datetime", s)
}

// checkFilter answers 400 for a condition the operation does not allow
// (allowed maps a field to its operators, as the description's filter
// parameter lists them) and returns the conditions.
func checkFilter(w http.ResponseWriter, r *http.Request, allowed map[string][]string) ([]cond, bool) {
	cs, err := parseFilter(r.URL.Query().Get("filter"))
	if err != nil {
		apiError(w, http.StatusBadRequest, "invalid", "Invalid filter.", err.Error(), "")
		return nil, false
	}
	for _, c := range cs {
		ok := false
		for _, op := range allowed[c.field] {
			ok = ok || op == c.op
		}
		if !ok {
			apiError(w, http.StatusBadRequest, "invalid", "Invalid filter.",
				fmt.Sprintf("%s is not a valid operator for field %s on this endpoint.", c.op, c.field), "")
			return nil, false
		}
		if c.op == "greater-than" || c.op == "less-than" {
			if _, err := parseTime(c.args[0]); err != nil {
				apiError(w, http.StatusBadRequest, "invalid", "Invalid filter.", err.Error(), "")
				return nil, false
			}
		}
	}
	return cs, true
}

// matchString says whether value satisfies an equals or any condition.
func (c cond) matchString(value string) bool {
	for _, a := range c.args {
		if a == value {
			return true
		}
	}
	return false
}

// matchTime says whether t satisfies a greater-than or less-than condition.
func (c cond) matchTime(t time.Time) bool {
	at, _ := parseTime(c.args[0])
	if c.op == "greater-than" {
		return t.After(at)
	}
	return t.Before(at)
}

// page cuts items to the requested page and returns the links object:
// the cursor is an opaque offset, next a whole URL (as Klaviyo gives it).
func page[T any](w http.ResponseWriter, r *http.Request, items []T, def, max int) ([]T, map[string]any, bool) {
	q := r.URL.Query()
	size := def
	if s := q.Get("page[size]"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > max {
			apiError(w, http.StatusBadRequest, "invalid", "Invalid input.",
				fmt.Sprintf("page[size] must be an integer between 1 and %d.", max), "")
			return nil, nil, false
		}
		size = n
	}
	off := 0
	if c := q.Get("page[cursor]"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err == nil {
			off, err = strconv.Atoi(strings.TrimPrefix(string(b), "o:"))
		}
		if err != nil || off < 0 {
			apiError(w, http.StatusBadRequest, "invalid", "Invalid input.", "page[cursor] is not valid.", "")
			return nil, nil, false
		}
	}
	self := &url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawQuery: r.URL.RawQuery}
	links := map[string]any{"self": self.String()}
	if off > len(items) {
		off = len(items)
	}
	end := min(off+size, len(items))
	if end < len(items) {
		nq := r.URL.Query()
		nq.Set("page[cursor]", base64.RawURLEncoding.EncodeToString([]byte("o:"+strconv.Itoa(end))))
		next := *self
		next.RawQuery = nq.Encode()
		links["next"] = next.String()
	}
	return items[off:end], links, true
}
