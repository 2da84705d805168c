package web

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
)

//go:embed openapi.yaml
var specYAML []byte

// apiSpec is the OpenAPI document of /api/v1, loaded and checked once.
type apiSpec struct {
	doc  *openapi3.T
	json []byte
}

func loadSpec() (*apiSpec, error) {
	doc, err := openapi3.NewLoader().LoadFromData(specYAML)
	if err != nil {
		return nil, fmt.Errorf("loading the API's OpenAPI document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("the API's OpenAPI document is invalid: %w", err)
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the API's OpenAPI document: %w", err)
	}
	return &apiSpec{doc: doc, json: b}, nil
}

// Spec returns the OpenAPI document of the API, as served.
func (s *Server) Spec() *openapi3.T { return s.spec.doc }

func (s *Server) serveSpec(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(s.spec.json)
}
