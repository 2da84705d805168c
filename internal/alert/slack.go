package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Slack posts alerts to a Slack incoming webhook as Block Kit messages: a
// header, the detail, and a context line with the rule and since when.
// The webhook URL is a secret (it carries the token): it never appears in
// an error or a log line.
type Slack struct {
	URL    string
	Client *http.Client // default: 10 s timeout
}

// Name implements Notifier.
func (s *Slack) Name() string { return "slack" }

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackMessage struct {
	Text   string       `json:"text"` // shown in notifications and where blocks are not
	Blocks []slackBlock `json:"blocks"`
}

// SlackMessage builds the message Slack receives for a.
func SlackMessage(a Alert) any {
	body := a.Summary
	if a.Detail != "" {
		body += "\n" + a.Detail
	}
	return slackMessage{
		Text: a.Title(),
		Blocks: []slackBlock{
			{Type: "header", Text: &slackText{Type: "plain_text", Text: truncate(a.Title(), 150)}},
			{Type: "section", Text: &slackText{Type: "mrkdwn", Text: truncate(body, 3000)}},
			{Type: "context", Elements: []slackText{{Type: "mrkdwn",
				Text: fmt.Sprintf("rule `%s` · since %s · %s", a.Rule, a.Since.UTC().Format(time.RFC3339), a.Status)}}},
		},
	}
}

// Notify implements Notifier. Slack answers 200 "ok"; anything else is
// an error carrying Slack's short reason (invalid_payload, no_service, …).
func (s *Slack) Notify(ctx context.Context, a Alert) error {
	b, err := json.Marshal(SlackMessage(a))
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

// post sends req and turns a non-2xx answer into an error without the
// request URL (which may hold a token).
func post(c *http.Client, req *http.Request, what string) error {
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	defer resp.Body.Close()
	reason, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s: %s", what, resp.Status, bytes.TrimSpace(reason))
	}
	return nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
