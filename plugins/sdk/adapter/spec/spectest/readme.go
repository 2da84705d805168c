package spectest

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// ReadmeSkeleton returns the second-level headings every connector's
// README has, in this order, so a reader finds the same thing in the same
// place for every platform: the calls it makes and the scopes they need,
// how it authenticates, how its cursors resume, how records map, how
// segments are written back, the platform's limits, how errors are
// classed, its webhooks, its configuration (the table generated from the
// spec), its fake, where its numbers are and what it does not do.
func ReadmeSkeleton() []string {
	return []string{
		"Calls and scopes",
		"Authentication",
		"Cursor rules",
		"Mapping",
		"Write-back",
		"Limits",
		"Errors",
		"Webhooks",
		"Configuration",
		"The fake",
		"Measured",
		"Known gaps",
	}
}

// ReadmeFollowsSkeleton fails when README.md in the current directory
// does not have exactly ReadmeSkeleton's second-level headings in order,
// under a title "# <platform> connector".
func ReadmeFollowsSkeleton(t *testing.T, platform string) {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckSkeleton(string(b), platform); err != nil {
		t.Errorf("README.md: %v", err)
	}
}

// CheckSkeleton reports how readme's title and second-level headings
// differ from ReadmeSkeleton. Headings inside fenced code blocks are not
// headings.
func CheckSkeleton(readme, platform string) error {
	var title string
	var got []string
	fenced := false
	sc := bufio.NewScanner(strings.NewReader(readme))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
			continue
		}
		if fenced {
			continue
		}
		switch {
		case strings.HasPrefix(line, "# ") && title == "":
			title = strings.TrimSpace(line[2:])
		case strings.HasPrefix(line, "## "):
			got = append(got, strings.TrimSpace(line[3:]))
		}
	}
	if want := platform + " connector"; title != want {
		return fmt.Errorf("title is %q, want %q", title, want)
	}
	want := ReadmeSkeleton()
	if slices.Equal(got, want) {
		return nil
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Errorf("section %d is %q, want %q (the sections must be, in order: %s)", i+1, got[i], want[i], strings.Join(want, "; "))
		}
	}
	if len(got) < len(want) {
		return fmt.Errorf("sections from %q on are missing (the sections must be, in order: %s)", want[len(got)], strings.Join(want, "; "))
	}
	return fmt.Errorf("section %q comes after the last one, %q", got[len(want)], want[len(want)-1])
}
