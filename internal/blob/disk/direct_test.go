package disk_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"testing"
)

// TestDirectWrites: blobs of every awkward size — empty, below, at and
// just past the block and buffer sizes — come back byte for byte, on the
// data disk (written with O_DIRECT where it is accepted) and on tmpfs
// (which refuses O_DIRECT: written through the page cache).
func TestDirectWrites(t *testing.T) {
	dirs := map[string]string{"tempdir": t.TempDir()}
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		d, err := os.MkdirTemp("/dev/shm", "permafrost-direct-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		dirs["tmpfs"] = d
	}
	sizes := []int{0, 1, 511, 4095, 4096, 4097, 1<<20 - 1, 1 << 20, 1<<20 + 1, 3<<20 + 12345}
	rng := rand.New(rand.NewPCG(7, 7))
	for name, dir := range dirs {
		s := MustOpen(t, dir)
		for _, n := range sizes {
			data := make([]byte, n)
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
			key := fmt.Sprintf("direct/%s-%d", name, n)
			got, err := s.Put(context.Background(), key, bytes.NewReader(data))
			if err != nil || got != int64(n) {
				t.Fatalf("%s: Put %d bytes: %d, %v", name, n, got, err)
			}
			rc, err := s.Open(context.Background(), key, 0, -1)
			if err != nil {
				t.Fatalf("%s: Open: %v", name, err)
			}
			back, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(back, data) {
				t.Fatalf("%s: %d bytes written, %d read back differently (%v)", name, n, len(back), err)
			}
		}
	}
}
