package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/permafrost/permafrost/internal/treehash"
)

// The minimal upload pipelines (issue #13): what an UploadArchive server
// must do at least — take the PUT, compute the linear SHA-256 and the tree
// hash in one pass, write the bytes to a new file on the data disk, fsync
// it, link it under its final name and fsync the directory — written as
// the harness's own handler and driven by the same SDK client as
// permafrost. One writes through the page cache, the other with O_DIRECT
// (aligned 1 MiB buffers; the unaligned tail written after O_DIRECT is
// switched off; buffered when the file system refuses O_DIRECT). They are
// the references of the single-stream large upload.

const directAlign = 4096

// alignedBuffer returns a size-byte slice whose start is directAlign-aligned.
func alignedBuffer(size int) []byte {
	raw := make([]byte, size+directAlign)
	off := int(uintptr(unsafe.Pointer(&raw[0])) & (directAlign - 1))
	if off != 0 {
		off = directAlign - off
	}
	return raw[off : off+size]
}

// pipelineHandler answers UploadArchive by the minimal pipeline into dir.
func pipelineHandler(dir string, direct bool, usedDirect *atomic.Bool) http.Handler {
	var seq atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusOK)
			return
		}
		id := strconv.FormatInt(seq.Add(1), 10)
		tmp, final := filepath.Join(dir, "tmp-"+id), filepath.Join(dir, "blobs", id)
		sum, err := pipelineWrite(r.Body, tmp, direct, usedDirect)
		if err == nil {
			err = os.Link(tmp, final)
		}
		if err == nil {
			err = syncDir(filepath.Dir(final))
		}
		os.Remove(tmp)
		os.Remove(final) // the reference keeps nothing: the disk must not fill over the runs
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Location", "/111122223333/vaults/bench/archives/"+id)
		w.Header().Set("x-amz-archive-id", id)
		w.Header().Set("x-amz-sha256-tree-hash", sum)
		w.WriteHeader(http.StatusCreated)
	})
}

// pipelineWrite streams body into a new file at path, hashing it on the
// way, and fsyncs the file; it returns the tree hash.
func pipelineWrite(body io.Reader, path string, direct bool, usedDirect *atomic.Bool) (string, error) {
	flags := os.O_CREATE | os.O_EXCL | os.O_WRONLY
	f, err := os.OpenFile(path, flags|directFlag(direct), 0o600)
	if err != nil && direct {
		f, err = os.OpenFile(path, flags, 0o600) // O_DIRECT refused (tmpfs): buffered
		direct = false
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	if direct {
		usedDirect.Store(true)
	}
	h := treehash.New()
	buf := alignedBuffer(int(mib))
	for {
		n, rerr := io.ReadFull(body, buf)
		if n > 0 {
			h.Write(buf[:n])
			chunk := buf[:n]
			if direct && n%directAlign != 0 {
				// The tail: the aligned part directly, the rest after
				// O_DIRECT is switched off.
				aligned := n &^ (directAlign - 1)
				if aligned > 0 {
					if _, err := f.Write(buf[:aligned]); err != nil {
						return "", err
					}
				}
				if err := setDirect(f, false); err != nil {
					return "", err
				}
				direct = false
				chunk = buf[aligned:n]
			}
			if _, err := f.Write(chunk); err != nil {
				return "", err
			}
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return "", rerr
		}
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	t := h.TreeHash()
	return hex.EncodeToString(t[:]), f.Close()
}

func directFlag(direct bool) int {
	if direct {
		return syscall.O_DIRECT
	}
	return 0
}

// setDirect turns O_DIRECT on or off on an open file.
func setDirect(f *os.File, on bool) error {
	fd := f.Fd()
	fl, _, e := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
	if e != 0 {
		return e
	}
	if on {
		fl |= syscall.O_DIRECT
	} else {
		fl &^= syscall.O_DIRECT
	}
	if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_SETFL, fl); e != 0 {
		return e
	}
	return nil
}

// pipelineCeilings measures both pipelines with the SDK client's
// single-stream UploadArchive of the large payload.
func (b *bench) pipelineCeilings(ctx context.Context) {
	for _, c := range b.report.Ceilings {
		if c.ID == "pipeline-direct/large" {
			return
		}
	}
	large := b.cfg.largeSize
	p := b.payload(large)
	for _, direct := range []bool{false, true} {
		id, name := "pipeline-buffered/large", "minimal upload pipeline through the page cache"
		if direct {
			id, name = "pipeline-direct/large", "minimal upload pipeline with O_DIRECT"
		}
		dir := filepath.Join(b.run, id[:len(id)-6])
		var usedDirect atomic.Bool
		note := "PUT + one-pass SHA-256 and tree hash + write + fsync + link + directory fsync, on the data disk, driven by the same SDK client"
		b.ceiling(ctx, Row{ID: id, Unit: "MB/s", Higher: true, Name: fmt.Sprintf("%s, UploadArchive %s, single stream", name, sizeLabel(large)), Note: note},
			func(ctx context.Context) (float64, error) {
				if err := os.MkdirAll(filepath.Join(dir, "blobs"), 0o700); err != nil {
					return 0, err
				}
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					return 0, err
				}
				srv := &http.Server{Handler: pipelineHandler(dir, direct, &usedDirect)}
				go srv.Serve(ln)
				defer srv.Close()
				sdk := newClient("http://"+ln.Addr().String(), 4)
				d, err := timeIt(func() error { _, err := uploadArchive(ctx, sdk, "bench", p); return err })
				return mbps(large, d), err
			})
		if direct && !usedDirect.Load() {
			b.report.Notes = append(b.report.Notes, "The data disk refused O_DIRECT: the direct pipeline wrote through the page cache.")
		}
		os.RemoveAll(dir)
	}
}
