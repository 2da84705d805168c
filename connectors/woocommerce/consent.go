package woocommerce

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// consentOf reads the newsletter opt-in from a customer's meta (see
// Consent): a granted or denied value sets email consent, as of the
// customer's modification time; anything else, or no entry, leaves it
// unknown.
func (m *mapper) consentOf(meta []wcMeta, modified time.Time) domain.Consent {
	key := m.consent.MetaKey
	if key == "" {
		return domain.Consent{}
	}
	for _, e := range meta {
		if e.Key != key {
			continue
		}
		v := metaText(e.Value)
		switch {
		case v == "":
		case slices.ContainsFunc(m.consent.Granted, func(g string) bool { return strings.EqualFold(g, v) }):
			return domain.Consent{Email: domain.ConsentGranted, UpdatedAt: modified}
		case slices.ContainsFunc(m.consent.Denied, func(d string) bool { return strings.EqualFold(d, v) }):
			return domain.Consent{Email: domain.ConsentDenied, UpdatedAt: modified}
		}
		return domain.Consent{}
	}
	return domain.Consent{}
}

// metaText is a meta value as text: WordPress stores strings, but plugins
// also leave numbers and booleans.
func metaText(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}
