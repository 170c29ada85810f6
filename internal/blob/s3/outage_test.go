package s3_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/blob/blobtest"
	"github.com/permafrost/permafrost/internal/blob/s3"
	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/testenv"
)

// TestOutage stops the server under an open store: every method fails
// with KindUnavailable, within the SDK's retries; once the server is back
// the same store works again, without being reopened.
func TestOutage(t *testing.T) {
	gw := testenv.NewVersitygwServer(t)
	b := gw.Bucket(t)
	b.SetEnv(t)
	s := mustOpen(t, b.URL)
	before := blobtest.RandomBytes(1, 100_000)
	blobtest.Put(t, s, "before", before)
	big := blobtest.RandomBytes(2, s3.PartSize+5)

	gw.Stop(t)

	ctx := context.Background()
	ops := []struct {
		name string
		fn   func() error
	}{
		{"Put", func() error { _, err := s.Put(ctx, "during", bytes.NewReader(before)); return err }},
		{"Put multipart", func() error { _, err := s.Put(ctx, "during-big", bytes.NewReader(big)); return err }},
		{"Open", func() error {
			rc, err := s.Open(ctx, "before", 0, -1)
			if err == nil {
				rc.Close()
			}
			return err
		}},
		{"Open empty range", func() error {
			rc, err := s.Open(ctx, "before", 10, 0)
			if err == nil {
				rc.Close()
			}
			return err
		}},
		{"Delete", func() error { return s.Delete(ctx, "before") }},
		{"List", func() error { return s.List(ctx, func(string, time.Time) error { return nil }) }},
	}
	for _, op := range ops {
		start := time.Now()
		err := op.fn()
		var ge *glacier.Error
		if !errors.As(err, &ge) || ge.Kind != glacier.KindUnavailable {
			t.Errorf("%s with the server down: %v (kind %v), want a *glacier.Error of KindUnavailable", op.name, err, glacier.KindOf(err))
		}
		t.Logf("%s with the server down failed in %v: %v", op.name, time.Since(start).Round(time.Millisecond), err)
	}
	if _, err := s3.Open(ctx, b.URL); glacier.KindOf(err) != glacier.KindUnavailable {
		t.Errorf("s3.Open with the server down: %v, want KindUnavailable", err)
	}

	gw.Start(t)

	if got := blobtest.Read(t, s, "before", 0, -1); !bytes.Equal(got, before) {
		t.Errorf("blob stored before the outage: wrong bytes after it")
	}
	blobtest.Put(t, s, "after", before)
	blobtest.Put(t, s, "after-big", big)
	if got := blobtest.Read(t, s, "after-big", s3.PartSize, -1); !bytes.Equal(got, big[s3.PartSize:]) {
		t.Errorf("after-big: wrong bytes")
	}
	blobtest.NotVisible(t, s, "during")
	blobtest.NotVisible(t, s, "during-big")
	if err := s.Delete(ctx, "after"); err != nil {
		t.Errorf("Delete after the outage: %v", err)
	}
	if got := blobtest.Keys(t, s); len(got) != 2 {
		t.Errorf("List after the outage = %q, want before and after-big", got)
	}
	checkNoUploads(t, rawClient(b), b.Name)
}

// TestOutageMidStream: the server dies while a blob is being read;
// the read fails with KindUnavailable rather than a short, silent EOF.
func TestOutageMidStream(t *testing.T) {
	gw := testenv.NewVersitygwServer(t)
	b := gw.Bucket(t)
	b.SetEnv(t)
	s := mustOpen(t, b.URL)
	const size = 64 << 20
	if _, err := s.Put(context.Background(), "big", blobtest.NewPatternReader(size)); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Open(context.Background(), "big", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadFull(rc, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	gw.Kill(t)
	n, err := io.Copy(io.Discard, rc)
	if err == nil {
		t.Fatalf("reading on after the server stopped: %d more bytes and no error (the server may have sent it all before stopping)", n)
	}
	if k := glacier.KindOf(err); k != glacier.KindUnavailable {
		t.Errorf("reading on after the server stopped: %v (kind %v), want KindUnavailable", err, k)
	}
	gw.Start(t)
}
