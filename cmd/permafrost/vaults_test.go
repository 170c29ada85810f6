package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
)

func TestVaultLifecycle(t *testing.T) {
	ts := mustServe(t)
	c := ts.client()
	ctx := context.Background()

	out, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String("photos")})
	if err != nil {
		t.Fatal(err)
	}
	if want := "/" + ts.AccountID + "/vaults/photos"; aws.ToString(out.Location) != want {
		t.Errorf("Location = %q, want %q", aws.ToString(out.Location), want)
	}
	// Idempotent: the same name again succeeds with the same location.
	again, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String("photos")})
	if err != nil || aws.ToString(again.Location) != aws.ToString(out.Location) {
		t.Fatalf("second CreateVault = %v, %v", again, err)
	}

	d, err := c.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: aws.String("photos")})
	if err != nil {
		t.Fatal(err)
	}
	if want := "arn:aws:glacier:us-east-1:" + ts.AccountID + ":vaults/photos"; aws.ToString(d.VaultARN) != want {
		t.Errorf("VaultARN = %q, want %q", aws.ToString(d.VaultARN), want)
	}
	if aws.ToString(d.VaultName) != "photos" || d.NumberOfArchives != 0 || d.SizeInBytes != 0 || d.LastInventoryDate != nil {
		t.Errorf("DescribeVault = %+v", d)
	}
	if cd := aws.ToString(d.CreationDate); len(cd) != len("2012-03-20T17:03:43.221Z") || !strings.HasSuffix(cd, "Z") {
		t.Errorf("CreationDate = %q, want ISO-8601 with milliseconds", cd)
	}

	// The account id may be given explicitly instead of "-".
	if _, err := c.DescribeVault(ctx, &glacier.DescribeVaultInput{AccountId: aws.String(ts.AccountID), VaultName: aws.String("photos")}); err != nil {
		t.Errorf("DescribeVault with explicit account: %v", err)
	}

	if _, err := c.DeleteVault(ctx, &glacier.DeleteVaultInput{VaultName: aws.String("photos")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: aws.String("photos")})
	wantAPIError(t, err, "ResourceNotFoundException", 404)
	if !strings.Contains(err.Error(), "Vault not found for ARN: arn:aws:glacier:us-east-1:"+ts.AccountID+":vaults/photos") {
		t.Errorf("message = %v", err)
	}
	_, err = c.DeleteVault(ctx, &glacier.DeleteVaultInput{VaultName: aws.String("photos")})
	wantAPIError(t, err, "ResourceNotFoundException", 404)
}

func TestCreateVaultValidation(t *testing.T) {
	ts := mustServe(t)
	c := ts.client()
	ctx := context.Background()
	for _, name := range []string{strings.Repeat("a", 256), "bad name", "bad/../name", "vault*", "ü"} {
		_, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String(name)})
		wantAPIError(t, err, "InvalidParameterValueException", 400)
	}
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String(strings.Repeat("a", 255))}); err != nil {
		t.Errorf("255-character name: %v", err)
	}
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String("A-z_0.9")}); err != nil {
		t.Errorf("all allowed characters: %v", err)
	}
	out, err := c.ListVaults(ctx, &glacier.ListVaultsInput{})
	if err != nil || len(out.VaultList) != 2 {
		t.Fatalf("ListVaults after invalid creates = %d vaults, %v; want 2", len(out.VaultList), err)
	}
}

func TestVaultLimit(t *testing.T) {
	ts := mustServe(t)
	ts.service.MaxVaults = 3
	c := ts.client()
	ctx := context.Background()
	for i := range 3 {
		if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String(fmt.Sprint("v", i))}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String("v3")})
	wantAPIError(t, err, "LimitExceededException", 400)
	// An existing name is still idempotent at the limit.
	if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String("v1")}); err != nil {
		t.Errorf("existing vault at the limit: %v", err)
	}
}

func TestListVaultsPagination(t *testing.T) {
	ts := mustServe(t)
	c := ts.client()
	ctx := context.Background()
	var want []string
	for i := range 23 {
		name := fmt.Sprintf("vault-%02d", i)
		want = append(want, name)
		if _, err := c.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	// Default page size is 10; the SDK paginator follows Marker.
	var got []string
	pages := 0
	p := glacier.NewListVaultsPaginator(c, &glacier.ListVaultsInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(out.VaultList) > 10 {
			t.Errorf("page of %d vaults, want at most 10", len(out.VaultList))
		}
		for _, v := range out.VaultList {
			got = append(got, aws.ToString(v.VaultName))
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") || pages != 3 {
		t.Fatalf("paged %d pages: %v, want %v", pages, got, want)
	}
	// An explicit limit, and the marker is the ARN of the next vault.
	out, err := c.ListVaults(ctx, &glacier.ListVaultsInput{Limit: aws.Int32(5)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.VaultList) != 5 || aws.ToString(out.Marker) != "arn:aws:glacier:us-east-1:"+ts.AccountID+":vaults/vault-05" {
		t.Fatalf("limit 5: %d vaults, marker %q", len(out.VaultList), aws.ToString(out.Marker))
	}
	for _, bad := range []string{"0", "-1", "abc"} {
		wantWireError(t, ts.do(t, "GET", "/-/vaults?limit="+bad, nil, nil), "InvalidParameterValueException", 400)
	}
	_, err = c.ListVaults(ctx, &glacier.ListVaultsInput{Marker: aws.String("not-an-arn")})
	wantAPIError(t, err, "InvalidParameterValueException", 400)
}

func TestCrossAccountDenied(t *testing.T) {
	ts := mustServe(t)
	other, key, secret := ts.mustCreateAccount(t, "")
	ctx := context.Background()
	if _, err := ts.clientFor(key, secret).CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String("theirs")}); err != nil {
		t.Fatal(err)
	}
	_, err := ts.client().DescribeVault(ctx, &glacier.DescribeVaultInput{AccountId: aws.String(other), VaultName: aws.String("theirs")})
	wantAPIError(t, err, "AccessDeniedException", 403)
	// Without a vault access policy granting it, another account is denied
	// (policies.md §6); the message names the action and the vault.
	if !strings.Contains(err.Error(), "not authorized to perform: glacier:DescribeVault on resource: arn:aws:glacier:us-east-1:"+other+":vaults/theirs") {
		t.Errorf("message = %v", err)
	}
	// A vault of the same name in the caller's own account is separate.
	_, err = ts.client().DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: aws.String("theirs")})
	wantAPIError(t, err, "ResourceNotFoundException", 404)
}

func TestUnknownRouteIsBadRequest(t *testing.T) {
	ts := mustServe(t)
	resp, err := http.Get(ts.URL() + "/-/nothing-here")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("x-amzn-RequestId") == "" {
		t.Fatalf("status %d, request id %q", resp.StatusCode, resp.Header.Get("x-amzn-RequestId"))
	}
}

func TestTestClockEndpoint(t *testing.T) {
	ts := mustServe(t)
	before := ts.service.Clock.Now()
	ts.advance(t, 48*time.Hour)
	if d := ts.service.Clock.Now().Sub(before); d < 48*time.Hour || d > 49*time.Hour {
		t.Fatalf("clock moved %v, want 48h", d)
	}
	resp, err := http.Post(ts.URL()+"/_permafrost/v1/clock", "application/json", strings.NewReader(`{"advance_seconds": -5}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("negative advance: status %d, want 400", resp.StatusCode)
	}
	// The offset survives a restart: the clock never moves back.
	dir := ts.Config.DataDir
	ts.Close()
	ts2 := mustServeDirNoAccount(t, dir, true)
	if d := ts2.service.Clock.Now().Sub(before); d < 48*time.Hour {
		t.Fatalf("after restart the clock is only %v ahead", d)
	}
}

func TestClockEndpointAbsentWithoutFlag(t *testing.T) {
	ts := mustServeDirNoAccount(t, t.TempDir(), false)
	resp, err := http.Post(ts.URL()+"/_permafrost/v1/clock", "application/json", strings.NewReader(`{"advance_seconds": 5}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("status %d, want 404", resp.StatusCode)
	}
}
