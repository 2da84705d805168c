package alert

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/internal/outbound"
)

// Report is a message that is not an alert, such as the scheduled
// segment review. Every destination gets its own form: Slack a few
// summary blocks and the link, email the HTML page (with a plain-text
// part), the webhook the whole report as signed JSON.
type Report struct {
	Kind    string    `json:"kind"` // "review"
	Title   string    `json:"title"`
	Summary []string  `json:"summary"` // a few lines in plain words, most important first
	Link    string    `json:"link,omitempty"`
	At      time.Time `json:"at"`
	// ID is the same for every sending of one report (the review of one
	// period), so receivers can drop repeats.
	ID   string `json:"id"`
	Data any    `json:"data"` // the report itself, for the webhook
	// HTML is the email's body: one page, no scripts.
	HTML []byte `json:"-"`
}

// Reporter delivers reports; Slack, Email and Webhook all do.
type Reporter interface {
	Name() string
	SendReport(ctx context.Context, r Report) error
}

// SendReport sends r to every notifier that takes reports, skipping
// those skip names (delivered already), and returns the names it
// delivered to; the error names each destination that failed.
func SendReport(ctx context.Context, r Report, notifiers []Notifier, skip map[string]bool) ([]string, error) {
	var sent []string
	var errs []error
	for _, n := range notifiers {
		rp, ok := n.(Reporter)
		if !ok || skip[n.Name()] {
			continue
		}
		if err := rp.SendReport(ctx, r); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n.Name(), err))
			continue
		}
		sent = append(sent, n.Name())
	}
	return sent, errors.Join(errs...)
}

// SlackReportMessage builds the Slack message for r: a header, the
// summary as a list, the link, and a context line.
func SlackReportMessage(r Report) any {
	var b strings.Builder
	for _, l := range r.Summary {
		b.WriteString("• " + slackEscape(l) + "\n")
	}
	blocks := []slackBlock{
		{Type: "header", Text: &slackText{Type: "plain_text", Text: truncate(r.Title, 150)}},
		{Type: "section", Text: &slackText{Type: "mrkdwn", Text: truncate(strings.TrimSpace(b.String()), 3000)}},
	}
	if r.Link != "" {
		blocks = append(blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: "<" + r.Link + "|Open the full " + r.Kind + ">"}})
	}
	blocks = append(blocks, slackBlock{Type: "context", Elements: []slackText{{Type: "mrkdwn", Text: "segment connector · " + r.At.UTC().Format(time.RFC3339)}}})
	return slackMessage{Text: r.Title, Blocks: blocks}
}

// slackEscape escapes the three characters Slack's mrkdwn reserves
// (https://api.slack.com/reference/surfaces/formatting#escaping).
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// SendReport implements Reporter.
func (s *Slack) SendReport(ctx context.Context, r Report) error {
	b, err := json.Marshal(SlackReportMessage(r))
	if err != nil {
		return fmt.Errorf("encoding slack message: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(b))
	if err != nil {
		return errors.New("slack: the webhook URL is not a valid URL")
	}
	req.Header.Set("Content-Type", "application/json")
	return post(s.Client, req, "slack")
}

// SendReport implements Reporter: multipart/alternative, the summary as
// plain text and the report's HTML page.
func (e *Email) SendReport(ctx context.Context, r Report) error {
	msg, err := e.reportMessage(r)
	if err != nil {
		return err
	}
	return e.deliver(ctx, msg)
}

func (e *Email) reportMessage(r Report) ([]byte, error) {
	var b bytes.Buffer
	e.headers(&b, r.Title, r.At)
	var parts bytes.Buffer
	mw := multipart.NewWriter(&parts)
	fmt.Fprintf(&b, "Content-Type: multipart/alternative; boundary=%q\r\n\r\n", mw.Boundary())
	text := r.Title + "\n\n"
	for _, l := range r.Summary {
		text += "- " + l + "\n"
	}
	if r.Link != "" {
		text += "\nThe full " + r.Kind + ": " + r.Link + "\n"
	}
	for _, p := range []struct {
		ctype string
		body  []byte
	}{{"text/plain; charset=utf-8", []byte(strings.ReplaceAll(text, "\n", "\r\n"))}, {"text/html; charset=utf-8", r.HTML}} {
		if p.body == nil {
			continue
		}
		w, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {p.ctype}, "Content-Transfer-Encoding": {"quoted-printable"}})
		if err != nil {
			return nil, fmt.Errorf("email: building the message: %w", err)
		}
		qw := quotedprintable.NewWriter(w)
		if _, err := qw.Write(p.body); err != nil {
			return nil, fmt.Errorf("email: building the message: %w", err)
		}
		if err := qw.Close(); err != nil {
			return nil, fmt.Errorf("email: building the message: %w", err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("email: building the message: %w", err)
	}
	b.Write(parts.Bytes())
	return b.Bytes(), nil
}

// SendReport implements Reporter: the report as JSON, signed like the
// alerts, with the report's ID as the delivery ID.
func (w *Webhook) SendReport(ctx context.Context, r Report) error {
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encoding report: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return errors.New("webhook: the URL is not a valid URL")
	}
	ts := r.At.Unix()
	id := sha256.Sum256([]byte(r.Kind + "|" + r.ID))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(outbound.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(outbound.HeaderSignature, outbound.SignatureHeader(w.Secret, ts, body))
	req.Header.Set(outbound.HeaderDelivery, hex.EncodeToString(id[:16]))
	return post(w.Client, req, "report webhook")
}
