package woocommercefake

import (
	"encoding/json"
	"testing"
)

func TestProductsServeCategories(t *testing.T) {
	f := newFake(t, Options{})
	ids := f.AddProducts(
		Product{Name: "Garden Trowel", SKU: "GT-1", Categories: []ProductCategory{{ID: 9, Name: "Garden", Slug: "garden"}}},
		Product{Name: "Plain Thing"},
		Product{Name: "Old", Status: "trash"},
	)
	resp, body := call(t, f, "GET", "/products?include=1,2,3&per_page=1&orderby=include", nil)
	if resp.StatusCode != 200 || resp.Header.Get("X-WP-Total") != "2" || resp.Header.Get("X-WP-TotalPages") != "2" {
		t.Fatalf("list: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	_, body = call(t, f, "GET", "/products?include=1,2,3", nil)
	var ps []Product
	if err := json.Unmarshal(body, &ps); err != nil {
		t.Fatal(err)
	}
	got := map[int]Product{}
	for _, p := range ps {
		got[p.ID] = p
	}
	if len(got) != 2 {
		t.Fatalf("trashed product listed or one missing: %s", body)
	}
	if c := got[ids[0]].Categories; len(c) != 1 || c[0].Name != "Garden" || c[0].Slug != "garden" || got[ids[0]].Slug != "garden-trowel" {
		t.Errorf("categories of a categorised product: %+v", got[ids[0]])
	}
	if c := got[ids[1]].Categories; len(c) != 1 || c[0].Slug != "uncategorized" {
		t.Errorf("a product without categories is not Uncategorized: %+v", c)
	}
	if resp, body = call(t, f, "GET", "/products/"+itoa(ids[0]), nil); resp.StatusCode != 200 {
		t.Fatalf("get: %d %s", resp.StatusCode, body)
	}
	if resp, body = call(t, f, "GET", "/products/999", nil); resp.StatusCode != 404 || !json.Valid(body) {
		t.Fatalf("missing product: %d %s", resp.StatusCode, body)
	}
	if resp, _ = call(t, f, "GET", "/products?orderby=colour", nil); resp.StatusCode != 400 {
		t.Fatalf("bad orderby: %d", resp.StatusCode)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
