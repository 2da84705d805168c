package config_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/identity"
)

func TestSurvivorshipKeys(t *testing.T) {
	p := writeFile(t, "c.yaml", `
platforms:
  hubspot: {token: t}
  salesforce: {client_id: x}
  woocommerce: {url: "https://shop.test"}
identity:
  survivorship:
    lifecycle_stage: [salesforce, hubspot]
    company:
      employees: [hubspot, salesforce]
    attributes.tier: [woocommerce]
`)
	l, err := config.Load(config.Source{File: p, Environ: []string{"CONNECTOR_IDENTITY__SURVIVORSHIP__FIRST_NAME=hubspot, woocommerce"}})
	if err != nil {
		t.Fatal(err)
	}
	want := identity.Policy{
		"lifecycle_stage":   {"salesforce", "hubspot"},
		"company.employees": {"hubspot", "salesforce"},
		"attributes.tier":   {"woocommerce"},
		"first_name":        {"hubspot", "woocommerce"},
	}
	if got := l.SurvivorshipPolicy(); !reflect.DeepEqual(got, want) {
		t.Errorf("policy = %v\nwant %v", got, want)
	}
}

func TestSurvivorshipProblems(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown field", `lifecyclestage: [hubspot]`, `identity.survivorship.lifecyclestage: unknown field "lifecyclestage"; known: first_name`},
		{"unknown company field", `company: {ceo: [hubspot]}`, `identity.survivorship.company.ceo: unknown field`},
		{"not configured", `company: [hubspot, zendesk]`, `identity.survivorship.company[1]: names no configured platform or plugin: "zendesk" (configured: hubspot, sheet)`},
		{"twice", `gender: [hubspot, hubspot]`, `identity.survivorship.gender[1]: "hubspot" is listed twice`},
		{"empty", `gender: []`, `identity.survivorship.gender: must be a non-empty list`},
		{"not a list", `gender: 3`, `identity.survivorship.gender: must be a list of platform names, best first; got int`},
		{"consent takes no priority", `consent: {email: [hubspot]}`, `identity.survivorship.consent.email: unknown field`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, "c.yaml", `
platforms:
  hubspot: {token: t}
plugins:
  - {name: sheet, path: ./sheet, sha256: `+strings.Repeat("a", 64)+`}
identity:
  survivorship:
    `+tc.yaml+"\n")
			_, err := config.Load(config.Source{File: p})
			var ps config.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("want Problems, got %v", err)
			}
			if !strings.Contains(ps.Error(), tc.want) {
				t.Errorf("problems:\n%s\nwant one containing %q", ps.Error(), tc.want)
			}
		})
	}
}
