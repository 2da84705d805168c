package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

// testConcurrentApply runs pages from four platforms at once, all naming
// the same 40 people: writers must neither fail (SQLITE_BUSY, unique
// violations) nor split a person into two profiles.
func testConcurrentApply(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	const people = 40
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := 0; w < 4; w++ {
		platform := fmt.Sprintf("p%d", w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for page := 0; page < 8; page++ {
				var chs []adapter.Change
				for i := 0; i < 10; i++ {
					n := (page*10 + i*3 + len(platform)*7) % people
					chs = append(chs, contact(platform, fmt.Sprintf("%d-%d", page, i), fmt.Sprintf("Person%d@Example.com", n), platform, t0.Add(time.Duration(page)*time.Minute)))
				}
				if _, err := s.ApplyPage(ctx, platform, "", "contact", chs, nil, fmt.Sprint(page)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[string]string{}
	err := s.EachProfile(ctx, func(po store.ProfileOrders) error {
		for _, e := range po.Profile.Emails {
			if other, ok := seen[e]; ok {
				return fmt.Errorf("email %s is on profiles %s and %s", e, other, po.Profile.ID)
			}
			seen[e] = po.Profile.ID
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := s.CountProfiles(ctx)
	if n != len(seen) {
		t.Errorf("%d profiles for %d distinct emails", n, len(seen))
	}
}
