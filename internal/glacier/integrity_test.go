package glacier

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/permafrost/permafrost/internal/treehash"
)

// onlyReader hides WriteTo, so io.Copy goes through Read.
type onlyReader struct{ io.Reader }

func TestVerifiedReaderRanges(t *testing.T) {
	const size = 10<<20 + 123
	data := make([]byte, size)
	rand.Read(data)
	path := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	s := &Service{Blobs: fileBlobs{path}}
	a := Archive{ID: "a", Size: size, Segments: []Segment{{BlobKey: "k", Size: size}}}
	leaves := treehash.Leaves(data)
	ranges := [][2]int64{{0, size - 1}, {5, 17}, {1<<20 - 1, 1 << 20}, {3<<20 + 9, size - 1}, {0, 4<<20 - 1}, {size - 1, size - 1}}
	for _, rg := range ranges {
		for _, viaRead := range []bool{false, true} {
			r, err := s.newVerifiedReader(context.Background(), a, leaves, rg[0], rg[1], "")
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			var src io.Reader = r
			if viaRead {
				src = onlyReader{r}
			}
			if _, err := io.Copy(&got, src); err != nil {
				t.Fatalf("range %v (read %v): %v", rg, viaRead, err)
			}
			r.Close()
			if !bytes.Equal(got.Bytes(), data[rg[0]:rg[1]+1]) {
				t.Errorf("range %v (read %v): got %d bytes, want %d", rg, viaRead, got.Len(), rg[1]-rg[0]+1)
			}
		}
	}

	// A flipped byte deep in the archive: everything before its MiB is
	// served, nothing of it or after, and the error says damaged.
	f, _ := os.OpenFile(path, os.O_RDWR, 0)
	f.WriteAt([]byte{data[7<<20+5] ^ 0xff}, 7<<20+5)
	f.Close()
	for _, viaRead := range []bool{false, true} {
		r, _ := s.newVerifiedReader(context.Background(), a, leaves, 0, size-1, "")
		var got bytes.Buffer
		var src io.Reader = r
		if viaRead {
			src = onlyReader{r}
		}
		_, err := io.Copy(&got, src)
		r.Close()
		var de *DamageError
		if !errors.As(err, &de) {
			t.Fatalf("read %v: err %v, want a DamageError", viaRead, err)
		}
		if got.Len() != 7<<20 || !bytes.Equal(got.Bytes(), data[:7<<20]) {
			t.Errorf("read %v: served %d bytes before the damaged MiB, want exactly %d intact ones", viaRead, got.Len(), 7<<20)
		}
	}
}
