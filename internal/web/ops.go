package web

import "net/http"

func (s *Server) failureRoutes(mux *http.ServeMux) {}
