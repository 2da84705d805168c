package spec

import (
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// fixKnownGaps corrects, in the loaded document only, the places where
// the generated file contradicts what WooCommerce's REST API actually
// accepts and answers (the file itself stays as published). Each fix is
// narrow and says why; everything else in the file is enforced as is.
func fixKnownGaps(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for _, p := range op.Parameters {
				arrayParamsAsLists(p)
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for _, mt := range op.RequestBody.Value.Content {
					walk(mt.Schema, seen)
					if method == http.MethodPost && strings.HasSuffix(path, "/batch") {
						mt.Schema = batchEnvelope(mt.Schema)
					}
				}
			}
			if op.Responses == nil {
				continue
			}
			createdAs200(method, op)
			for _, r := range op.Responses.Map() {
				if r.Value == nil {
					continue
				}
				for _, mt := range r.Value.Content {
					walk(mt.Schema, seen)
				}
			}
		}
	}
	for _, s := range doc.Components.Schemas {
		walk(s, seen)
	}
}

// batchEnvelope: the file gives a batch endpoint the request schema of a
// single resource, so any object passes. WooCommerce's batch endpoints
// take {create: [resource…], update: [resource with id…], delete: [id…]}
// (docs: "Batch update customers"); unknown keys are refused here so a
// misspelt list cannot pass.
func batchEnvelope(item *openapi3.SchemaRef) *openapi3.SchemaRef {
	no := false
	withID := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeObject}, Required: []string{"id"},
		Properties: openapi3.Schemas{"id": openapi3.NewIntegerSchema().NewRef()}}
	update := &openapi3.Schema{AllOf: openapi3.SchemaRefs{item, withID.NewRef()}}
	env := &openapi3.Schema{
		Type:                 &openapi3.Types{openapi3.TypeObject},
		AdditionalProperties: openapi3.AdditionalProperties{Has: &no},
		Properties: openapi3.Schemas{
			"create": openapi3.NewArraySchema().WithItems(item.Value).NewRef(),
			"update": (&openapi3.Schema{Type: &openapi3.Types{openapi3.TypeArray}, Items: update.NewRef()}).NewRef(),
			"delete": openapi3.NewArraySchema().WithItems(openapi3.NewIntegerSchema()).NewRef(),
		},
	}
	return env.NewRef()
}

// arrayParamsAsLists: the file leaves array query parameters (include,
// exclude, …) at OpenAPI's default encoding, one repeated key per value.
// PHP keeps only the last of repeated keys; WordPress's REST API reads an
// array parameter from one comma-separated value, which OpenAPI calls
// style form with explode false.
func arrayParamsAsLists(p *openapi3.ParameterRef) {
	if p == nil || p.Value == nil || p.Value.In != openapi3.ParameterInQuery || p.Value.Schema == nil || p.Value.Schema.Value == nil {
		return
	}
	if p.Value.Schema.Value.Type.Is(openapi3.TypeArray) {
		no := false
		p.Value.Style, p.Value.Explode = openapi3.SerializationForm, &no
	}
}

// createdAs200: WordPress answers a created item with 201 Created; the
// file lists only 200 for POST on collections.
func createdAs200(method string, op *openapi3.Operation) {
	if method != http.MethodPost || op.Responses.Value("201") != nil || op.Responses.Value("200") == nil {
		return
	}
	op.Responses.Set("201", op.Responses.Value("200"))
}

// walk fixes property schemas reachable from s:
//   - date_* fields are null until set (date_paid, date_completed, …);
//   - an order's version is WooCommerce's version string ("9.4.0"),
//     though the file (and WooCommerce's own schema) says integer;
//   - a line item's product_id is typed string in the file; WooCommerce
//     sends the integer id;
//   - a meta_data entry's value is any JSON value, or null, which
//     deletes the entry (WC_Data::save_meta_data drops null values); the
//     file types it string;
//   - order statuses include trash and checkout-draft, which the API
//     returns for trashed orders and block-checkout drafts.
func walk(ref *openapi3.SchemaRef, seen map[*openapi3.Schema]bool) {
	if ref == nil || ref.Value == nil || seen[ref.Value] {
		return
	}
	s := ref.Value
	seen[s] = true
	for name, p := range s.Properties {
		if p == nil || p.Value == nil {
			continue
		}
		v := p.Value
		switch {
		case strings.HasPrefix(name, "date_") && v.Type.Is(openapi3.TypeString):
			v.Nullable = true
		case name == "version" && v.Type.Is(openapi3.TypeInteger):
			v.Type = &openapi3.Types{openapi3.TypeString}
		case name == "product_id" && v.Type.Is(openapi3.TypeString):
			v.Type = &openapi3.Types{openapi3.TypeInteger}
		case name == "meta_data" && v.Items != nil && v.Items.Value != nil && v.Items.Value.Properties["value"] != nil:
			mv := v.Items.Value.Properties["value"].Value
			mv.Type, mv.Nullable = nil, true
		case name == "status" && slices.Contains(v.Enum, any("pending")) && slices.Contains(v.Enum, any("processing")):
			for _, st := range []string{"trash", "checkout-draft"} {
				if !slices.Contains(v.Enum, any(st)) {
					v.Enum = append(v.Enum, st)
				}
			}
		}
		walk(p, seen)
	}
	walk(s.Items, seen)
	for _, list := range [][]*openapi3.SchemaRef{s.AllOf, s.AnyOf, s.OneOf} {
		for _, x := range list {
			walk(x, seen)
		}
	}
}
