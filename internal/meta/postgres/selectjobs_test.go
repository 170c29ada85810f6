package postgres

import (
	"testing"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/meta/metatest"
)

// TestSelectJobs runs the select-job checks on a database of their own
// each; ClaimJob's race is between connections of one pool.
func TestSelectJobs(t *testing.T) {
	metatest.RunSelectJobs(t, func(t *testing.T) glacier.MetaStore {
		db := mustOpen(t, newDSN(t))
		warm(t, db)
		return db
	})
}
