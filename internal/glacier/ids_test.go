package glacier

import "testing"

// An id that starts with '-' cannot be passed to the aws CLI as
// "--upload-id $ID": argparse takes it for an option. With a uniform first
// character one id in 64 did, so 10,000 draws find it almost surely.
func TestIDsNeverStartWithDash(t *testing.T) {
	for i := 0; i < 10000; i++ {
		for _, id := range []string{newArchiveID(), newUploadID(), newJobID()} {
			if id[0] == '-' || id[0] == '_' {
				t.Fatalf("id %q starts with %q", id, id[0])
			}
			if !urlSafe(id) {
				t.Fatalf("id %q is not URL-safe base64", id)
			}
		}
		if a, u := newArchiveID(), newUploadID(); len(a) != archiveIDLen || len(u) != uploadIDLen {
			t.Fatalf("lengths %d and %d, want %d and %d", len(a), len(u), archiveIDLen, uploadIDLen)
		}
	}
}
