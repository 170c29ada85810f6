package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/api"
	"github.com/permafrost/permafrost/internal/blob/disk"
	"github.com/permafrost/permafrost/internal/clock"
	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/meta/authcache"
	"github.com/permafrost/permafrost/internal/meta/sqlite"
)

// TestListVaultsRenderedOnce: ListVaults on a cached store (authcache over
// SQLite, as permafrost serves) answers every page — default and explicit
// limits, followed by marker — byte for byte what encoding/json writes for
// the wire structs built from the store's rows read without the cache,
// the first time (rendered) and again (the rendered answer kept for the
// cached page), and still so at once after an upload moves a vault's
// counters, a vault is created before the first page and one is deleted:
// a kept answer is never served for a page that changed. Both with live
// counts (inventory interval 0) and with counts as of the last inventory.
func TestListVaultsRenderedOnce(t *testing.T) {
	for _, interval := range []time.Duration{0, 24 * time.Hour} {
		t.Run(interval.String(), func(t *testing.T) { listVaultsRenderedOnce(t, interval) })
	}
}

func listVaultsRenderedOnce(t *testing.T, interval time.Duration) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.CreateAccount(ctx, glacier.Account{ID: account, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	blobs, err := disk.Open(filepath.Join(dir, "archives"))
	if err != nil {
		t.Fatal(err)
	}
	raw := db.Roles()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := &glacier.Service{Stores: authcache.Wrap(raw, db), Blobs: blobs, Clock: clock.NewTest(0), Region: region,
		Logger: quiet, MaxVaults: 100, InventoryInterval: interval}
	h := (&api.Server{Service: svc, Keys: staticKeys{}, Region: region, Logger: quiet}).Handler()
	do := signedDo(t, h)

	// want is the answer built from the store's rows, read without the cache.
	want := func(t *testing.T, from string, limit int) (body []byte, next string) {
		t.Helper()
		vs, err := raw.Vaults.ListVaults(ctx, account, from, limit+1)
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) > limit {
			vs, next = vs[:limit], vs[limit].Name
		}
		out := api.ListVaultsOutput{VaultList: []api.DescribeVaultOutput{}}
		for _, v := range vs {
			n, size, inv := v.NumberOfArchives, v.SizeInBytes, v.LastInventoryAt
			if interval > 0 {
				n, size = v.Inventory.Count, v.Inventory.Size
			} else if v.LastWriteAt.After(inv) {
				inv = v.LastWriteAt
			}
			var invDate *string
			if !inv.IsZero() {
				s := inv.UTC().Format("2006-01-02T15:04:05.000Z")
				invDate = &s
			}
			out.VaultList = append(out.VaultList, api.DescribeVaultOutput{
				VaultARN: svc.VaultARN(account, v.Name), VaultName: v.Name,
				CreationDate: v.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z"), LastInventoryDate: invDate,
				NumberOfArchives: n, SizeInBytes: size + n*glacier.PerArchiveOverhead,
			})
		}
		if next != "" {
			m := svc.VaultARN(account, next)
			out.Marker = &m
		}
		b, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		return b, next
	}
	// walk reads every page of the list with limit (0: the default; at
	// most 10 apply) three times each, following the marker, and checks
	// each answer.
	walk := func(t *testing.T, limit int) {
		t.Helper()
		from := ""
		for pages := 0; ; pages++ {
			if pages > 20 {
				t.Fatal("the marker does not end")
			}
			q := url.Values{}
			if limit > 0 {
				q.Set("limit", strconv.Itoa(limit))
			}
			if from != "" {
				q.Set("marker", svc.VaultARN(account, from))
			}
			path := "/-/vaults"
			if len(q) > 0 {
				path += "?" + q.Encode()
			}
			wantBody, next := want(t, from, min(cmp(limit, 10), 10))
			for i := range 3 {
				w := do("GET", path, "", nil)
				if w.Code != http.StatusOK || w.Body.String() != string(wantBody) {
					t.Fatalf("%s, read %d: %d %s\nwant %s", path, i, w.Code, w.Body, wantBody)
				}
				if cl := w.Header().Get("Content-Length"); cl != strconv.Itoa(len(wantBody)) {
					t.Fatalf("%s: Content-Length %q for %d bytes", path, cl, len(wantBody))
				}
				if ct := w.Header().Get("Content-Type"); ct != "application/json" {
					t.Fatalf("%s: Content-Type %q", path, ct)
				}
			}
			if next == "" {
				return
			}
			from = next
		}
	}
	check := func(what string) {
		t.Helper()
		for _, limit := range []int{0, 1, 4, 10, 50} {
			t.Run(fmt.Sprintf("%s/limit-%d", what, limit), func(t *testing.T) { walk(t, limit) })
		}
	}

	check("no vaults")
	for i := range 13 {
		if w := do("PUT", fmt.Sprintf("/-/vaults/v%02d", i), "", nil); w.Code != http.StatusCreated {
			t.Fatalf("CreateVault: %d %s", w.Code, w.Body)
		}
	}
	check("13 vaults")

	data := "an archive on the first page"
	sum := sha256.Sum256([]byte(data))
	tree := hex.EncodeToString(sum[:])
	w := do("POST", "/-/vaults/v02/archives", data, map[string]string{"x-amz-sha256-tree-hash": tree, "x-amz-content-sha256": tree})
	if w.Code != http.StatusCreated {
		t.Fatalf("UploadArchive: %d %s", w.Code, w.Body)
	}
	if interval == 0 {
		if b, _ := want(t, "", 10); !json.Valid(b) || !containsCount(t, b, "v02", 1) {
			t.Fatalf("the store does not show the upload: %s", b)
		}
	}
	check("after an upload")
	// Below the cache, as another process would.
	if _, _, err := raw.Vaults.CreateVault(ctx, glacier.Vault{AccountID: account, Name: "a-first", CreatedAt: time.Now()}, 100); err != nil {
		t.Fatal(err)
	}
	check("after a vault created below the cache")
	if w := do("DELETE", "/-/vaults/v05", "", nil); w.Code != http.StatusNoContent {
		t.Fatalf("DeleteVault: %d %s", w.Code, w.Body)
	}
	check("after a vault deleted")
}

func cmp(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// containsCount reports whether the list answer b shows vault name with n archives.
func containsCount(t *testing.T, b []byte, name string, n int64) bool {
	t.Helper()
	var out api.ListVaultsOutput
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	for _, v := range out.VaultList {
		if v.VaultName == name {
			return v.NumberOfArchives == n
		}
	}
	return false
}
