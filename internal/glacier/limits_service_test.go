package glacier_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/permafrost/permafrost/internal/glacier"
)

// race runs n calls at once and counts successes and failures by kind.
func race(n int, call func(i int) error) (ok int, kinds map[glacier.Kind]int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	kinds = map[glacier.Kind]int{}
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := call(i)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok++
			} else {
				kinds[glacier.KindOf(err)]++
			}
		}()
	}
	close(start)
	wg.Wait()
	return ok, kinds
}

// TestCountLimitsHoldUnderConcurrency: the vault, tag and capacity limits
// are checked and acted on in one store transaction, so concurrent
// requests never pass a limit together.
func TestCountLimitsHoldUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	e := newService(t, func(s *glacier.Service) { s.MaxVaults = 3; s.MaxTags = 4 })
	s := e.svc

	ok, kinds := race(10, func(i int) error {
		_, err := s.CreateVault(ctx, owner, ownerAccount, fmt.Sprint("v", i))
		return err
	})
	if ok != 3 || kinds[glacier.KindLimitExceeded] != 7 {
		t.Errorf("10 concurrent CreateVault with a limit of 3: %d created, failures %v", ok, kinds)
	}
	if vs, _, _ := s.ListVaults(ctx, owner, ownerAccount, "", 100); len(vs) != 3 {
		t.Errorf("%d vaults stored, want 3", len(vs))
	}

	vs, _, _ := s.ListVaults(ctx, owner, ownerAccount, "", 1)
	vault := vs[0].Name
	ok, kinds = race(10, func(i int) error {
		return s.AddTagsToVault(ctx, owner, ownerAccount, vault, map[string]string{fmt.Sprint("k", i): "v"})
	})
	if ok != 4 || kinds[glacier.KindLimitExceeded] != 6 {
		t.Errorf("10 concurrent AddTagsToVault with a limit of 4: %d added, failures %v", ok, kinds)
	}
	if tags, _ := s.ListTagsForVault(ctx, owner, ownerAccount, vault); len(tags) != 4 {
		t.Errorf("%d tags stored, want 4", len(tags))
	}

	ok, kinds = race(6, func(int) error {
		_, err := s.PurchaseProvisionedCapacity(ctx, owner, ownerAccount)
		return err
	})
	if ok != glacier.MaxCapacityUnits || kinds[glacier.KindLimitExceeded] != 6-glacier.MaxCapacityUnits {
		t.Errorf("6 concurrent purchases: %d bought, failures %v", ok, kinds)
	}
	if units, _ := s.ListProvisionedCapacity(ctx, owner, ownerAccount); len(units) != glacier.MaxCapacityUnits {
		t.Errorf("%d units stored", len(units))
	}
}
