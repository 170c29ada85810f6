package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/meta/metatest"
)

func TestIdentityCreator(t *testing.T) {
	metatest.RunIdentityCreator(t, func(t *testing.T) glacier.MetaStore {
		return mustOpen(t, filepath.Join(t.TempDir(), "meta.db"))
	})
}
