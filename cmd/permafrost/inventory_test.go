package main

// End-to-end tests of vault inventories (data-plane.md §6): inventory
// jobs in JSON and CSV, their filters and paging, and the periodic
// inventory behind DescribeVault's counts and DeleteVault.

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/glacier/types"

	"github.com/permafrost/permafrost/internal/treehash"
)

// inventoryDoc is the JSON inventory (data-plane.md §6.2).
type inventoryDoc struct {
	VaultARN      string
	InventoryDate string
	ArchiveList   []inventoryItem
}

type inventoryItem struct {
	ArchiveId          string
	ArchiveDescription string
	CreationDate       string
	Size               int64
	SHA256TreeHash     string
}

// inventoryArchive is what the test uploaded.
type inventoryArchive struct {
	id, desc            string
	size                int64
	hash                string
	notBefore, notAfter time.Time // server clock around the upload
}

// inventoryParams are inventory-retrieval job parameters.
func inventoryParams(format string, p *types.InventoryRetrievalJobInput) *types.JobParameters {
	jp := &types.JobParameters{Type: aws.String("inventory-retrieval"), InventoryRetrievalParameters: p}
	if format != "" {
		jp.Format = aws.String(format)
	}
	return jp
}

// inventoryJSON runs a JSON inventory job on a server without job delays
// and returns its description, the raw output and the parsed document.
func (ts *testServer) inventoryJSON(t *testing.T, c *glacier.Client, vault string, p *types.InventoryRetrievalJobInput) (*glacier.DescribeJobOutput, []byte, inventoryDoc) {
	t.Helper()
	id := ts.jobInitiate(t, c, vault, inventoryParams("", p))
	d := jobWait(t, c, vault, id, types.StatusCodeSucceeded)
	out, body := jobGetOutput(t, c, vault, id, "")
	if out.Status != 200 || aws.ToString(out.ContentType) != "application/json" || out.Checksum != nil || out.ArchiveDescription != nil {
		t.Errorf("JSON inventory output: status %d, Content-Type %q, checksum %v, description %v",
			out.Status, aws.ToString(out.ContentType), out.Checksum, out.ArchiveDescription)
	}
	if d.InventorySizeInBytes == nil || *d.InventorySizeInBytes != int64(len(body)) {
		t.Errorf("InventorySizeInBytes %v, output is %d bytes", d.InventorySizeInBytes, len(body))
	}
	var doc inventoryDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("JSON inventory %q: %v", body, err)
	}
	if doc.ArchiveList == nil && !strings.Contains(string(body), `"ArchiveList":[]`) {
		t.Errorf("ArchiveList missing or null in %s", body)
	}
	return d, body, doc
}

// inventoryCSVFields splits one CSV inventory line (data-plane.md §6.3):
// fields may be double-quoted; inside quotes \" is a quote and every other
// byte, a backslash included, stands for itself.
func inventoryCSVFields(t *testing.T, line string) []string {
	t.Helper()
	var fields []string
	var f strings.Builder
	quoted, inQuotes := false, false
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case inQuotes && ch == '\\' && i+1 < len(line) && line[i+1] == '"':
			f.WriteByte('"')
			i++
		case inQuotes && ch == '"':
			inQuotes = false
		case inQuotes:
			f.WriteByte(ch)
		case ch == '"' && f.Len() == 0 && !quoted:
			inQuotes, quoted = true, true
		case ch == ',':
			fields = append(fields, f.String())
			f.Reset()
			quoted = false
		default:
			if quoted {
				t.Fatalf("CSV line %q: text after a closing quote", line)
			}
			f.WriteByte(ch)
		}
	}
	if inQuotes {
		t.Fatalf("CSV line %q: unterminated quote", line)
	}
	return append(fields, f.String())
}

// inventoryWantItem checks one inventory entry against the upload.
func inventoryWantItem(t *testing.T, what string, got inventoryItem, want inventoryArchive) {
	t.Helper()
	if got.ArchiveId != want.id || got.ArchiveDescription != want.desc || got.Size != want.size || got.SHA256TreeHash != want.hash {
		t.Errorf("%s: entry %+v, want id %s description %q size %d hash %s", what, got, want.id, want.desc, want.size, want.hash)
	}
	created, err := time.Parse(jobTimeLayout, got.CreationDate)
	if err != nil {
		t.Errorf("%s: CreationDate %q is not ISO-8601 with milliseconds", what, got.CreationDate)
		return
	}
	if created.Before(want.notBefore.Truncate(time.Millisecond)) || created.After(want.notAfter) {
		t.Errorf("%s: CreationDate %s outside the upload's window %s .. %s", what, got.CreationDate, want.notBefore, want.notAfter)
	}
}

// inventoryPage runs inventory jobs with p's filters, following the
// markers the completed jobs report, and returns the archive ids of all
// pages and the number of jobs.
func (ts *testServer) inventoryPage(t *testing.T, c *glacier.Client, vault string, p types.InventoryRetrievalJobInput) ([]string, int) {
	t.Helper()
	var ids []string
	jobs := 0
	limit, _ := strconv.Atoi(aws.ToString(p.Limit))
	for {
		jobs++
		if jobs > 20 {
			t.Fatal("inventory paging does not end")
		}
		q := p
		d, _, doc := ts.inventoryJSON(t, c, vault, &q)
		irp := d.InventoryRetrievalParameters
		if irp == nil || aws.ToString(irp.Format) != "JSON" || aws.ToString(irp.Limit) != aws.ToString(p.Limit) ||
			aws.ToString(irp.StartDate) != aws.ToString(p.StartDate) || aws.ToString(irp.EndDate) != aws.ToString(p.EndDate) {
			t.Errorf("job %d: InventoryRetrievalParameters %+v, want the filters %+v", jobs, irp, p)
		}
		if limit > 0 && len(doc.ArchiveList) > limit {
			t.Errorf("job %d: %d archives, limit %d", jobs, len(doc.ArchiveList), limit)
		}
		for _, a := range doc.ArchiveList {
			ids = append(ids, a.ArchiveId)
		}
		if irp == nil || irp.Marker == nil {
			return ids, jobs
		}
		if *irp.Marker == "" || *irp.Marker == aws.ToString(p.Marker) {
			t.Fatalf("job %d: next marker %q", jobs, *irp.Marker)
		}
		p.Marker = irp.Marker
	}
}

func TestInventoryJSONAndCSV(t *testing.T) {
	ts := jobServe(t, func(c *Config) { c.JobDelays = "none" }) // InventoryInterval 0: always current
	c := ts.client()
	ctx := context.Background()
	mustCreateVault(t, c, "v")
	arn := "arn:aws:glacier:us-east-1:" + ts.AccountID + ":vaults/v"
	vd, err := c.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: aws.String("v")})
	if err != nil {
		t.Fatal(err)
	}

	// A vault never written to: an empty list dated at the vault's creation.
	d, _, doc := ts.inventoryJSON(t, c, "v", nil)
	if d.Action != types.ActionCodeInventoryRetrieval || !d.Completed || aws.ToString(d.StatusMessage) != "Succeeded" ||
		d.ArchiveId != nil || d.ArchiveSizeInBytes != nil || d.ArchiveSHA256TreeHash != nil || d.SHA256TreeHash != nil ||
		d.RetrievalByteRange != nil || d.Tier != nil || d.InventoryRetrievalParameters == nil ||
		aws.ToString(d.InventoryRetrievalParameters.Format) != "JSON" || d.InventoryRetrievalParameters.Marker != nil {
		t.Errorf("inventory DescribeJob = Action %s Completed %v %q archive %v/%v/%v/%v range %v tier %v params %+v",
			d.Action, d.Completed, aws.ToString(d.StatusMessage), d.ArchiveId, d.ArchiveSizeInBytes, d.ArchiveSHA256TreeHash,
			d.SHA256TreeHash, d.RetrievalByteRange, d.Tier, d.InventoryRetrievalParameters)
	}
	created := jobParseTime(t, "vault CreationDate", vd.CreationDate)
	if doc.VaultARN != arn || len(doc.ArchiveList) != 0 || doc.InventoryDate != created.UTC().Format("2006-01-02T15:04:05Z") {
		t.Errorf("empty vault inventory = %+v, want no archives dated %s", doc, *vd.CreationDate)
	}

	// Five archives an hour apart, descriptions with the characters CSV
	// must quote.
	descs := []string{"plain", "with, comma", `with "double" quotes`, `both, "q" and say \"hi\", ok`, ""}
	var archives []inventoryArchive
	for i, desc := range descs {
		data := randomBytes(1000*(i+1) + i)
		a := inventoryArchive{desc: desc, size: int64(len(data)), hash: treehash.Sum(data).String(), notBefore: ts.service.Clock.Now()}
		a.id = jobUpload(t, c, "v", desc, data)
		a.notAfter = ts.service.Clock.Now()
		archives = append(archives, a)
		ts.advance(t, time.Hour)
	}

	// JSON: every archive, in creation order.
	_, body, doc := ts.inventoryJSON(t, c, "v", nil)
	if doc.VaultARN != arn || len(doc.ArchiveList) != len(archives) {
		t.Fatalf("JSON inventory: VaultARN %q, %d archives, want %d: %s", doc.VaultARN, len(doc.ArchiveList), len(archives), body)
	}
	invDate, err := time.Parse("2006-01-02T15:04:05Z", doc.InventoryDate)
	if err != nil || invDate.Before(archives[len(archives)-1].notBefore.Truncate(time.Second)) || invDate.After(ts.service.Clock.Now()) {
		t.Errorf("InventoryDate %q (%v): want the time of a snapshot taken after the last upload", doc.InventoryDate, err)
	}
	for i, a := range archives {
		inventoryWantItem(t, fmt.Sprintf("JSON entry %d", i), doc.ArchiveList[i], a)
	}

	// A range of the inventory.
	jid := ts.jobInitiate(t, c, "v", inventoryParams("JSON", nil))
	out, part := jobGetOutput(t, c, "v", jid, "bytes=0-9")
	if out.Status != 206 || string(part) != string(body[:10]) || out.Checksum != nil ||
		aws.ToString(out.ContentRange) != fmt.Sprintf("bytes 0-9/%d", len(body)) {
		t.Errorf("ranged inventory: status %d, %q, Content-Range %q, checksum %v", out.Status, part, aws.ToString(out.ContentRange), out.Checksum)
	}

	// CSV: a header, then one line per archive with the same values.
	jid = ts.jobInitiate(t, c, "v", inventoryParams("CSV", nil))
	d = jobWait(t, c, "v", jid, types.StatusCodeSucceeded)
	if d.InventoryRetrievalParameters == nil || aws.ToString(d.InventoryRetrievalParameters.Format) != "CSV" {
		t.Errorf("CSV job parameters %+v", d.InventoryRetrievalParameters)
	}
	out, csv := jobGetOutput(t, c, "v", jid, "")
	if out.Status != 200 || aws.ToString(out.ContentType) != "text/csv" || out.Checksum != nil {
		t.Errorf("CSV output: status %d, Content-Type %q, checksum %v", out.Status, aws.ToString(out.ContentType), out.Checksum)
	}
	if aws.ToInt64(d.InventorySizeInBytes) != int64(len(csv)) {
		t.Errorf("CSV InventorySizeInBytes %d, output %d bytes", aws.ToInt64(d.InventorySizeInBytes), len(csv))
	}
	lines := strings.Split(strings.TrimSuffix(string(csv), "\n"), "\n")
	if len(lines) != len(archives)+1 || lines[0] != "ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash" {
		t.Fatalf("CSV inventory:\n%s", csv)
	}
	for i, line := range lines[1:] {
		f := inventoryCSVFields(t, strings.TrimSuffix(line, "\r"))
		if len(f) != 5 {
			t.Errorf("CSV line %d %q has %d fields", i, line, len(f))
			continue
		}
		size, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil {
			t.Errorf("CSV line %d size %q", i, f[3])
		}
		item := inventoryItem{ArchiveId: f[0], ArchiveDescription: f[1], CreationDate: f[2], Size: size, SHA256TreeHash: f[4]}
		inventoryWantItem(t, fmt.Sprintf("CSV line %d (%s)", i, line), item, archives[i])
		if item.CreationDate != doc.ArchiveList[i].CreationDate {
			t.Errorf("CSV line %d CreationDate %s, JSON says %s", i, item.CreationDate, doc.ArchiveList[i].CreationDate)
		}
	}

	// Paging with Limit 2: three jobs, every archive once, in order; the
	// last job's marker is null.
	ids, jobs := ts.inventoryPage(t, c, "v", types.InventoryRetrievalJobInput{Limit: aws.String("2")})
	var want []string
	for _, a := range archives {
		want = append(want, a.id)
	}
	if jobs != 3 || strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Errorf("Limit 2 paging: %d jobs, ids %v; want 3 jobs, %v", jobs, ids, want)
	}
	// A limit of at least the archive count: one job, no marker.
	if ids, jobs := ts.inventoryPage(t, c, "v", types.InventoryRetrievalJobInput{Limit: aws.String("5")}); jobs != 1 || len(ids) != 5 {
		t.Errorf("Limit 5: %d jobs, %d archives; want 1 job with all 5", jobs, len(ids))
	}

	// Date filters: StartDate includes archives created at or after it,
	// EndDate those created strictly before it (ISO-8601 to the second).
	second := func(i int) *string {
		tm, _ := time.Parse(jobTimeLayout, doc.ArchiveList[i].CreationDate)
		return aws.String(tm.Truncate(time.Second).Format("2006-01-02T15:04:05Z"))
	}
	ids, _ = ts.inventoryPage(t, c, "v", types.InventoryRetrievalJobInput{StartDate: second(1), EndDate: second(3)})
	if strings.Join(ids, ",") != strings.Join(want[1:3], ",") {
		t.Errorf("StartDate %s EndDate %s: %v, want archives 1 and 2 %v", *second(1), *second(3), ids, want[1:3])
	}
	ids, _ = ts.inventoryPage(t, c, "v", types.InventoryRetrievalJobInput{StartDate: second(3)})
	if strings.Join(ids, ",") != strings.Join(want[3:], ",") {
		t.Errorf("StartDate %s: %v, want archives 3 and 4", *second(3), ids)
	}
	ids, _ = ts.inventoryPage(t, c, "v", types.InventoryRetrievalJobInput{EndDate: second(1)})
	if strings.Join(ids, ",") != want[0] {
		t.Errorf("EndDate %s: %v, want archive 0", *second(1), ids)
	}
	// Filters and paging combined.
	ids, jobs = ts.inventoryPage(t, c, "v", types.InventoryRetrievalJobInput{StartDate: second(1), EndDate: second(4), Limit: aws.String("1")})
	if jobs != 3 || strings.Join(ids, ",") != strings.Join(want[1:4], ",") {
		t.Errorf("dates with Limit 1: %d jobs, %v; want 3 jobs, archives 1..3", jobs, ids)
	}

	// Invalid inventory parameters.
	for what, p := range map[string]*types.JobParameters{
		"format XML":           inventoryParams("XML", nil),
		"limit 0":              inventoryParams("", &types.InventoryRetrievalJobInput{Limit: aws.String("0")}),
		"limit abc":            inventoryParams("", &types.InventoryRetrievalJobInput{Limit: aws.String("abc")}),
		"bad start date":       inventoryParams("", &types.InventoryRetrievalJobInput{StartDate: aws.String("yesterday")}),
		"bad end date":         inventoryParams("", &types.InventoryRetrievalJobInput{EndDate: aws.String("2013-13-45T00:00:00Z")}),
		"start after end":      inventoryParams("", &types.InventoryRetrievalJobInput{StartDate: second(3), EndDate: second(1)}),
		"bad marker":           inventoryParams("", &types.InventoryRetrievalJobInput{Marker: aws.String("not a marker")}),
		"archive id":           {Type: aws.String("inventory-retrieval"), ArchiveId: aws.String(archives[0].id)},
		"retrieval byte range": {Type: aws.String("inventory-retrieval"), RetrievalByteRange: aws.String("0-1048575")},
	} {
		t.Run(strings.ReplaceAll(what, " ", "_"), func(t *testing.T) {
			_, err := jobInitiateErr(c, "v", p)
			wantAPIError(t, err, "InvalidParameterValueException", 400)
		})
	}
}

func TestInventoryInterval(t *testing.T) {
	ts := jobServe(t, func(c *Config) {
		c.InventoryInterval = 24 * time.Hour
		c.JobDelays = "none"
	})
	c := ts.client()
	ctx := context.Background()
	mustCreateVault(t, c, "v")
	describe := func() *glacier.DescribeVaultOutput {
		t.Helper()
		d, err := c.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: aws.String("v")})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	// waitVault polls DescribeVault until it shows n archives.
	waitVault := func(n int64) *glacier.DescribeVaultOutput {
		t.Helper()
		deadline := time.Now().Add(jobWaitLimit)
		for {
			d := describe()
			if d.NumberOfArchives == n {
				return d
			}
			if time.Now().After(deadline) {
				t.Fatalf("DescribeVault still shows %d archives after %v, want %d", d.NumberOfArchives, jobWaitLimit, n)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	inventoryIDs := func() []string {
		t.Helper()
		_, _, doc := ts.inventoryJSON(t, c, "v", nil)
		var ids []string
		for _, a := range doc.ArchiveList {
			ids = append(ids, a.ArchiveId)
		}
		return ids
	}

	if d := describe(); d.NumberOfArchives != 0 || d.SizeInBytes != 0 || d.LastInventoryDate != nil {
		t.Fatalf("new vault: %d archives, %d bytes, LastInventoryDate %v", d.NumberOfArchives, d.SizeInBytes, d.LastInventoryDate)
	}

	// Counts are as of the last inventory: uploads do not show yet, and
	// an inventory job returns the last snapshot.
	a, b := randomBytes(5000), randomBytes(70000)
	ida, idb := jobUpload(t, c, "v", "a", a), jobUpload(t, c, "v", "b", b)
	if d := describe(); d.NumberOfArchives != 0 || d.SizeInBytes != 0 || d.LastInventoryDate != nil {
		t.Errorf("after two uploads, before any inventory: %d archives, %d bytes, LastInventoryDate %v; want the empty snapshot",
			d.NumberOfArchives, d.SizeInBytes, d.LastInventoryDate)
	}
	if lv, err := c.ListVaults(ctx, &glacier.ListVaultsInput{}); err != nil || len(lv.VaultList) != 1 || lv.VaultList[0].NumberOfArchives != 0 {
		t.Errorf("ListVaults before any inventory = %+v, %v", lv, err)
	}
	if ids := inventoryIDs(); len(ids) != 0 {
		t.Errorf("inventory job before any inventory lists %v, want none", ids)
	}
	_, err := c.DeleteVault(ctx, &glacier.DeleteVaultInput{VaultName: aws.String("v")})
	wantAPIError(t, err, "InvalidParameterValueException", 400)

	// A day on, the inventory has been taken.
	ts.advance(t, 25*time.Hour)
	d := waitVault(2)
	if want := int64(len(a)+len(b)) + 2*32768; d.SizeInBytes != want {
		t.Errorf("SizeInBytes %d, want %d (sizes plus 32 KiB per archive)", d.SizeInBytes, want)
	}
	first := jobParseTime(t, "LastInventoryDate", d.LastInventoryDate)
	if now := ts.service.Clock.Now(); first.Before(now.Add(-2*time.Hour)) || first.After(now) {
		t.Errorf("LastInventoryDate %s, server clock %s", *d.LastInventoryDate, now)
	}
	if ids := inventoryIDs(); !jobSameSet(ids, []string{ida, idb}) {
		t.Errorf("inventory job after the inventory lists %v, want both archives", ids)
	}

	// Deleting the archives does not empty the snapshot: the vault still
	// counts two archives and cannot be deleted.
	for _, id := range []string{ida, idb} {
		if _, err := c.DeleteArchive(ctx, &glacier.DeleteArchiveInput{VaultName: aws.String("v"), ArchiveId: aws.String(id)}); err != nil {
			t.Fatal(err)
		}
	}
	if d := describe(); d.NumberOfArchives != 2 {
		t.Errorf("right after deleting both archives: %d archives, want 2 (as of the last inventory)", d.NumberOfArchives)
	}
	if ids := inventoryIDs(); !jobSameSet(ids, []string{ida, idb}) {
		t.Errorf("inventory job after the deletes lists %v, want the snapshot's two archives", ids)
	}
	_, err = c.DeleteVault(ctx, &glacier.DeleteVaultInput{VaultName: aws.String("v")})
	wantAPIError(t, err, "InvalidParameterValueException", 400)
	if !strings.Contains(err.Error(), "Vault not empty or recently written to") {
		t.Errorf("message = %v", err)
	}

	// The next day's inventory shows the vault empty; now it can go.
	ts.advance(t, 25*time.Hour)
	d = waitVault(0)
	if d.SizeInBytes != 0 || d.LastInventoryDate == nil || !jobParseTime(t, "LastInventoryDate", d.LastInventoryDate).After(first) {
		t.Errorf("after the second inventory: %d bytes, LastInventoryDate %v (first %s)", d.SizeInBytes, d.LastInventoryDate, first)
	}
	if ids := inventoryIDs(); len(ids) != 0 {
		t.Errorf("inventory job after the second inventory lists %v, want none", ids)
	}
	if _, err := c.DeleteVault(ctx, &glacier.DeleteVaultInput{VaultName: aws.String("v")}); err != nil {
		t.Fatalf("DeleteVault after an empty inventory: %v", err)
	}
	_, err = c.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: aws.String("v")})
	wantAPIError(t, err, "ResourceNotFoundException", 404)
}
