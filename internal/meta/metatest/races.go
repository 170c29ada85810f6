package metatest

import (
	"sync"
	"testing"

	"github.com/permafrost/permafrost/internal/glacier"
)

// racers is how many goroutines contend in each race.
const racers = 8

// Race runs fn(0) … fn(n-1) in goroutines released together and returns
// their errors by index. Store-specific race tests use it too.
func Race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// Winners returns the indexes of the nil errors and fails t unless every
// other error is of kind loser.
func Winners(t *testing.T, what string, errs []error, loser glacier.Kind) []int {
	t.Helper()
	var won []int
	for i, err := range errs {
		if err == nil {
			won = append(won, i)
		} else if glacier.KindOf(err) != loser {
			t.Errorf("%s: racer %d got error %q of kind %v, want %v", what, i, err, glacier.KindOf(err), loser)
		}
	}
	return won
}
