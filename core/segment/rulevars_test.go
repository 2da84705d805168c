package segment

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestRuleVariablesDocumented(t *testing.T) {
	vars := RuleVariables()
	if n := reflect.TypeFor[RuleEnv]().NumField(); len(vars) != n {
		t.Fatalf("%d variables for %d RuleEnv fields", len(vars), n)
	}
	for _, v := range vars {
		if v.Name == "" || v.Doc == "" || v.Type == "" {
			t.Errorf("variable %+v lacks a name, type or doc", v)
		}
	}
}

// ruleTable renders RuleVariables as the README's Markdown table rows.
func ruleTable() string {
	var b strings.Builder
	for _, v := range RuleVariables() {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", v.Name, v.Type, strings.ReplaceAll(v.Doc, "|", "\\|"))
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// TestREADMERuleVariables fails when the README's table of rule names
// drifts from RuleVariables. Run with UPDATE_README=1 to rewrite it.
func TestREADMERuleVariables(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	const open, close = "|---|---|---|\n", "\n<!-- /rule-variables -->"
	i, j := strings.Index(s, open), strings.Index(s, close)
	if i < 0 || j < i {
		t.Fatal("README.md has no rule-variables table")
	}
	got, want := s[i+len(open):j], ruleTable()
	if got == want {
		return
	}
	if os.Getenv("UPDATE_README") != "" {
		if err := os.WriteFile("README.md", []byte(s[:i+len(open)]+want+s[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md rule table differs from RuleVariables; run UPDATE_README=1 go test -run TestREADMERuleVariables ./core/segment\n got:\n%s\nwant:\n%s", got, want)
}

func TestUnknownRuleNameListsTheKnownOnes(t *testing.T) {
	_, err := CompileRule("total_spent > 100")
	if err == nil {
		t.Fatal("an unknown name compiled")
	}
	msg := err.Error()
	if !strings.Contains(msg, "unknown name total_spent") || !strings.Contains(msg, "known: gender, age, country,") ||
		!strings.Contains(msg, "monetary") || !strings.Contains(msg, "categories") {
		t.Errorf("error %q does not list the known names", msg)
	}
	// Type errors keep their own message.
	if _, err := CompileRule(`country == 5`); err == nil || strings.Contains(err.Error(), "known:") {
		t.Errorf("type error: %v", err)
	}
}
