package postgres

import (
	"testing"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/meta/metatest"
)

// TestJobAdmission runs the admission checks on a database of their own
// each; the race is between connections of one pool.
func TestJobAdmission(t *testing.T) {
	metatest.RunJobAdmission(t, func(t *testing.T) glacier.MetaStore {
		db := mustOpen(t, newDSN(t))
		warm(t, db)
		return db
	})
}
