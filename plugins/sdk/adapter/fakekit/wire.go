package fakekit

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
)

// resetConn drops the connection under w without an answer, as a TCP
// reset (linger 0). It reports false when w cannot be hijacked.
func resetConn(w http.ResponseWriter) bool {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return false
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return false
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
	return true
}

// writeBroken sends the recorded answer rec broken as b says.
func writeBroken(w http.ResponseWriter, rec *httptest.ResponseRecorder, b BodyBreak) {
	body := rec.Body.Bytes()
	half := body[:len(body)/2]
	if b == BodyTruncated {
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(half)))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(half)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "cannot break the body: the connection cannot be taken over", http.StatusInternalServerError)
		return
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		http.Error(w, "cannot break the body: "+err.Error(), http.StatusInternalServerError)
		return
	}
	defer conn.Close()
	h := rec.Header().Clone()
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Del("Transfer-Encoding")
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", rec.Code, http.StatusText(rec.Code))
	_ = h.Write(buf)
	_, _ = buf.WriteString("\r\n")
	_, _ = buf.Write(half)
	_ = buf.Flush()
	if tc, ok := conn.(*net.TCPConn); ok && b == BodyReset {
		_ = tc.SetLinger(0)
	}
}

// writePage answers status with the HTML page a proxy or web application
// firewall in front of the platform sends: never the platform's JSON.
func writePage(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	w.WriteHeader(status)
	if status/100 == 2 {
		_, _ = w.Write([]byte(challengePage))
		return
	}
	text := http.StatusText(status)
	if status == http.StatusServiceUnavailable {
		text = "Service Temporarily Unavailable"
	}
	fmt.Fprintf(w, errorPage, status, text, text)
}

const errorPage = `<!DOCTYPE html>
<html><head><title>%d %s</title></head>
<body><h1>%s</h1>
<p>The server is temporarily unable to service your request due to maintenance downtime or capacity problems.</p>
<hr><address>Web Application Firewall</address></body></html>
`

const challengePage = `<!DOCTYPE html>
<html><head><title>Just a moment...</title></head>
<body><h1>Checking your browser before accessing the site.</h1>
<p>This process is automatic. Your browser will redirect to your requested content shortly.</p>
<hr><address>Web Application Firewall</address></body></html>
`
