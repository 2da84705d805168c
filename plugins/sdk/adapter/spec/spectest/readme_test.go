package spectest

import (
	"strings"
	"testing"
)

func skeletonReadme(title string, headings []string) string {
	var b strings.Builder
	b.WriteString("# " + title + "\n\nIntro.\n")
	for _, h := range headings {
		b.WriteString("\n## " + h + "\n\nText.\n\n### A subsection is free\n")
	}
	return b.String()
}

func TestCheckSkeleton(t *testing.T) {
	sk := ReadmeSkeleton()
	swapped := append([]string(nil), sk...)
	swapped[1], swapped[2] = swapped[2], swapped[1]
	fence := skeletonReadme("Acme connector", sk) + "\n```md\n## Not a heading\n```\n"
	for _, c := range []struct {
		name, readme, want string
	}{
		{"skeleton", skeletonReadme("Acme connector", sk), ""},
		{"fenced heading ignored", fence, ""},
		{"wrong title", skeletonReadme("Acme", sk), `title is "Acme"`},
		{"order drifted", skeletonReadme("Acme connector", swapped), `section 2 is "Cursor rules", want "Authentication"`},
		{"section missing", skeletonReadme("Acme connector", sk[:len(sk)-1]), `sections from "Known gaps" on are missing`},
		{"section renamed", skeletonReadme("Acme connector", append(append([]string(nil), sk[:3]...), append([]string{"Paging"}, sk[4:]...)...)), `section 4 is "Paging", want "Mapping"`},
		{"extra section", skeletonReadme("Acme connector", append(append([]string(nil), sk...), "Numbers")), `section "Numbers" comes after`},
	} {
		err := CheckSkeleton(c.readme, "Acme")
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}
