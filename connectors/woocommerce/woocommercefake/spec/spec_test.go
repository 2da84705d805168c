package spec_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/segconn/connector/connectors/woocommerce/woocommercefake/spec"
	"github.com/segconn/connector/internal/testenv"
)

func TestRequestsCheckedAgainstTheSpec(t *testing.T) {
	v, err := spec.Load(testenv.SharedFile(t, "specs/woocommerce-v3/woocommerce-openapi-3.0.x.yml"))
	if err != nil {
		t.Fatal(err)
	}
	const base = "http://shop.test" + spec.APIPrefix
	for _, tc := range []struct {
		name, method, url, body string
		want                    string // "" valid, "undescribed", or a substring of the error
	}{
		{"list orders", "GET", base + "/orders?page=2&per_page=100&orderby=modified&order=asc&modified_after=2026-01-01T00:00:00&dates_are_gmt=true&oauth_nonce=x", "", ""},
		{"ids as a comma list", "GET", base + "/orders?include=1,2,3", "", ""},
		{"a status not in the enum", "GET", base + "/orders?status=shipped", "", "status"},
		{"a non-integer id in a list", "GET", base + "/customers?include=1,x", "", "include"},
		{"batch update with ids and null meta", "POST", base + "/customers/batch", `{"update":[{"id":7,"meta_data":[{"key":"_seg","value":null},{"key":"_seg_list_vip","value":"yes"}]}]}`, ""},
		{"a misspelt batch list", "POST", base + "/customers/batch", `{"updat":[{"id":7}]}`, "updat"},
		{"batch update without an id", "POST", base + "/customers/batch", `{"update":[{"first_name":"x"}]}`, "id"},
		{"webhook with a bad status", "PUT", base + "/webhooks/3", `{"status":"sleeping"}`, "status"},
		{"a route that does not exist", "GET", base + "/customers/7/segments", "", "undescribed"},
		{"outside the API", "GET", "http://shop.test/wp-admin/", "", "undescribed"},
	} {
		req, _ := http.NewRequest(tc.method, tc.url, strings.NewReader(tc.body))
		if tc.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		_, err := v.Request(context.Background(), req)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: rejected: %v", tc.name, err)
		case tc.want == "undescribed" && !errors.Is(err, spec.ErrNotDescribed):
			t.Errorf("%s: %v, want ErrNotDescribed", tc.name, err)
		case tc.want != "" && tc.want != "undescribed" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want an error naming %q", tc.name, err, tc.want)
		}
	}
}
