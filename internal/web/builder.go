package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/internal/app"
)

// builderRoutes registers the segment builder: the rule variables, the
// validation and dry run it calls as you type, and saving (admin only).
func (s *Server) builderRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/segments/variables", s.apiRuleVariables)
	mux.HandleFunc("POST /api/v1/segments/validate", s.apiValidateDefinition)
	mux.HandleFunc("POST /api/v1/segments/dry-run", s.apiDryRun)
	mux.HandleFunc("GET /api/v1/segments/definitions", s.apiStoredDefinitions)
	mux.HandleFunc("PUT /api/v1/segments/definitions/{name}", s.apiSaveDefinition)
	mux.HandleFunc("GET /segments/builder", s.builderPage)
	mux.HandleFunc("POST /segments/builder", s.builderSave)
}

// Problem is one problem of a definition, with the field it is about.
type Problem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// Validation is what the builder says of a definition as you type.
type Validation struct {
	Valid    bool         `json:"valid"`
	Problems []Problem    `json:"problems"`
	DryRun   *app.DryRun  `json:"dry_run,omitempty"`
	Members  []ProfileHit `json:"members,omitempty"`
}

// RuleVariable is one name a rule can read.
type RuleVariable struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Doc  string `json:"doc"`
}

func (s *Server) apiRuleVariables(w http.ResponseWriter, _ *http.Request) {
	out := []RuleVariable{}
	for _, v := range segment.RuleVariables() {
		out = append(out, RuleVariable{Name: v.Name, Type: v.Type, Doc: v.Doc})
	}
	writeJSON(w, http.StatusOK, out)
}

func readDefinition(w http.ResponseWriter, r *http.Request) (app.BuilderDefinition, error) {
	var d app.BuilderDefinition
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return d, fmt.Errorf("the body must be a definition {\"name\", \"expr\", \"description\", \"holdout_percent\"}: %w", err)
	}
	return d, nil
}

func (s *Server) validation(r *http.Request, d app.BuilderDefinition, dry bool) (Validation, error) {
	_, ps := s.app.CheckDefinition(r.Context(), d)
	v := Validation{Valid: len(ps) == 0, Problems: []Problem{}}
	for _, p := range ps {
		v.Problems = append(v.Problems, Problem{Path: p.Path, Message: p.Message})
	}
	if !v.Valid || !dry {
		return v, nil
	}
	res, err := s.app.DryRunDefinition(r.Context(), d, s.opts.Now())
	if err != nil {
		return v, err
	}
	v.DryRun = &res
	for _, id := range res.Sample {
		if p, err := s.app.Store.Profile(r.Context(), id); err == nil {
			v.Members = append(v.Members, hit(p))
		}
	}
	return v, nil
}

func (s *Server) apiValidateDefinition(w http.ResponseWriter, r *http.Request) {
	d, err := readDefinition(w, r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	v, err := s.validation(r, d, false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) apiDryRun(w http.ResponseWriter, r *http.Request) {
	d, err := readDefinition(w, r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	v, err := s.validation(r, d, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// StoredDefinition is a definition saved with the builder.
type StoredDefinition struct {
	Definition app.BuilderDefinition `json:"definition"`
	UpdatedAt  time.Time             `json:"updated_at"`
	UpdatedBy  string                `json:"updated_by"`
	// Active is false until the connector restarts with it.
	Active bool `json:"active"`
}

func (s *Server) storedDefinitions(r *http.Request) ([]StoredDefinition, error) {
	sds, err := s.app.Store.Definitions(r.Context())
	if err != nil {
		return nil, err
	}
	running := map[string]bool{}
	for _, d := range s.app.Engine.Definitions() {
		running[d.Name] = true
	}
	out := []StoredDefinition{}
	for _, sd := range sds {
		d, ok, err := s.app.BuilderDefinitionOf(r.Context(), sd.Name)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		out = append(out, StoredDefinition{Definition: d, UpdatedAt: sd.UpdatedAt.UTC(), UpdatedBy: sd.UpdatedBy, Active: running[sd.Name]})
	}
	return out, nil
}

func (s *Server) apiStoredDefinitions(w http.ResponseWriter, r *http.Request) {
	out, err := s.storedDefinitions(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiSaveDefinition(w http.ResponseWriter, r *http.Request) {
	p := who(r.Context())
	if !p.admin() {
		writeError(w, http.StatusForbidden, "saving a segment needs the admin role")
		return
	}
	d, err := readDefinition(w, r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if d.Name != r.PathValue("name") {
		writeError(w, http.StatusBadRequest, "the definition's name must be the one in the path")
		return
	}
	v, err := s.validation(r, d, false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !v.Valid {
		writeJSON(w, http.StatusUnprocessableEntity, v)
		return
	}
	if err := s.app.SaveDefinition(r.Context(), d, p.Name); err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("segment definition saved", "segment", d.Name, "by", p.Name)
	writeJSON(w, http.StatusOK, v)
}

type builderData struct {
	Def       app.BuilderDefinition
	Variables []segment.RuleVariable
	Stored    []StoredDefinition
	Result    *Validation
	Flash     string
}

func (s *Server) renderBuilder(w http.ResponseWriter, r *http.Request, status int, d builderData) {
	d.Variables = segment.RuleVariables()
	var err error
	if d.Stored, err = s.storedDefinitions(r); err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, status, "builder", "Segment builder", d)
}

func (s *Server) builderPage(w http.ResponseWriter, r *http.Request) {
	d := builderData{}
	if saved := r.URL.Query().Get("saved"); saved != "" {
		d.Flash = "Saved " + saved + ". The connector computes it from its next start; until then the size below is a dry run."
	}
	if name := r.URL.Query().Get("name"); name != "" {
		def, ok, err := s.app.BuilderDefinitionOf(r.Context(), name)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		if !ok {
			s.pageError(w, r, fmt.Errorf("rule segment %q: %w", name, errNotFound))
			return
		}
		d.Def = def
	}
	s.renderBuilder(w, r, http.StatusOK, d)
}

// builderSave checks (action=check: validate and dry-run) or saves
// (action=save, admin only) the form's definition.
func (s *Server) builderSave(w http.ResponseWriter, r *http.Request) {
	p := who(r.Context())
	d := app.BuilderDefinition{Name: strings.TrimSpace(r.PostFormValue("name")), Description: r.PostFormValue("description"), Expr: r.PostFormValue("expr")}
	if h := r.PostFormValue("holdout_percent"); h != "" {
		f, err := strconv.ParseFloat(h, 64)
		if err != nil {
			s.renderBuilder(w, r, http.StatusBadRequest, builderData{Def: d, Flash: "The holdout must be a number of percent."})
			return
		}
		d.Holdout = f
	}
	save := r.PostFormValue("action") == "save"
	if save && !p.admin() {
		s.renderBuilder(w, r, http.StatusForbidden, builderData{Def: d, Flash: "Saving a segment needs the admin role."})
		return
	}
	v, err := s.validation(r, d, true)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if !v.Valid {
		s.renderBuilder(w, r, http.StatusUnprocessableEntity, builderData{Def: d, Result: &v})
		return
	}
	if !save {
		s.renderBuilder(w, r, http.StatusOK, builderData{Def: d, Result: &v})
		return
	}
	if err := s.app.SaveDefinition(r.Context(), d, p.Name); err != nil {
		if errors.Is(err, app.ErrInvalidDefinition) {
			s.renderBuilder(w, r, http.StatusUnprocessableEntity, builderData{Def: d, Result: &v, Flash: err.Error()})
			return
		}
		s.pageError(w, r, err)
		return
	}
	s.log.Info("segment definition saved", "segment", d.Name, "by", p.Name)
	http.Redirect(w, r, "/segments/builder?saved="+url.QueryEscape(d.Name)+"&name="+url.QueryEscape(d.Name), http.StatusSeeOther)
}
