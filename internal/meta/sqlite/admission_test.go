package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/meta/metatest"
)

func TestJobAdmission(t *testing.T) {
	metatest.RunJobAdmission(t, func(t *testing.T) glacier.MetaStore {
		return mustOpen(t, filepath.Join(t.TempDir(), "meta.db"))
	})
}
