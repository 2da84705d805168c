package pipeline

import (
	"hash/maphash"
	"testing"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// valuesHash is the hash of the state withValues builds, whether the
// base state already holds the value properties or not, and a
// different value gives a different hash.
func TestValuesHashIsHashOfWithValues(t *testing.T) {
	s := &settledRecords{seed: maphash.MakeSeed(), ids: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
	tg := &targets{values: map[string]string{"next": valueNextOrder, "gap": valueOrderGap, "odd": "unknown kind"}}
	bases := []state{
		{Props: map[string]string{"seg": "vip;loyal"}, Lists: map[string]bool{"list:vip": true}},
		{Props: map[string]string{"seg": "", "next": "", "gap": "12"}, Lists: map[string]bool{"list:vip": false}},
		{Props: map[string]string{"odd": "kept"}},
	}
	people := []scored{{}, {nextOrder: "2026-12-24", orderGap: "30"}, {nextOrder: "2027-01-02"}}
	seen := map[uint64]bool{}
	for i, base := range bases {
		for j, sc := range people {
			want := s.hash(tg.withValues(base, sc))
			if got := tg.valuesHash(s, base, s.hash(base), sc); got != want {
				t.Errorf("base %d, person %d: valuesHash %x, hash of withValues %x", i, j, got, want)
			}
			seen[want] = true
		}
	}
	if len(seen) != len(bases)*len(people) {
		t.Errorf("%d distinct hashes for %d distinct states", len(seen), len(bases)*len(people))
	}
}

// A record's id is the id of its key, however it is given.
func TestRecordIDIsTheKeys(t *testing.T) {
	s := &settledRecords{ids: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
	a := domain.ExternalRef{Platform: "hubspot", Account: "p1", ObjectType: "contact", ID: "7"}
	b := domain.ExternalRef{Platform: "hubspot", Account: "p1", ObjectType: "contact", ID: "8"}
	if s.id(a) != s.keyID(a.Key()) {
		t.Error("a record's id differs from its key's")
	}
	if s.id(a) == s.id(b) {
		t.Error("two records share an id")
	}
}
