package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	gtypes "github.com/aws/aws-sdk-go-v2/service/glacier/types"
	"github.com/google/go-cmp/cmp"
)

func TestVaultTags(t *testing.T) {
	ts := mustServe(t)
	c := ts.client()
	ctx := context.Background()
	mustCreateVault(t, c, "v")

	list := func() map[string]string {
		t.Helper()
		out, err := c.ListTagsForVault(ctx, &glacier.ListTagsForVaultInput{VaultName: aws.String("v")})
		if err != nil {
			t.Fatal(err)
		}
		return out.Tags
	}
	if got := list(); len(got) != 0 {
		t.Fatalf("new vault tags = %v", got)
	}
	if _, err := c.AddTagsToVault(ctx, &glacier.AddTagsToVaultInput{VaultName: aws.String("v"), Tags: map[string]string{"Owner": "ops", "LegalHold": "", "path": "a/b=c+d-e@f.g_h"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddTagsToVault(ctx, &glacier.AddTagsToVaultInput{VaultName: aws.String("v"), Tags: map[string]string{"Owner": "security"}}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"Owner": "security", "LegalHold": "", "path": "a/b=c+d-e@f.g_h"}, list()); diff != "" {
		t.Fatalf("tags (-want +got):\n%s", diff)
	}
	// Case-sensitive keys; removing absent keys is fine.
	if _, err := c.RemoveTagsFromVault(ctx, &glacier.RemoveTagsFromVaultInput{VaultName: aws.String("v"), TagKeys: []string{"owner", "LegalHold", "absent"}}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"Owner": "security", "path": "a/b=c+d-e@f.g_h"}, list()); diff != "" {
		t.Fatalf("tags after remove (-want +got):\n%s", diff)
	}

	for _, bad := range []map[string]string{
		{"aws:reserved": "x"},
		{"": "x"},
		{strings.Repeat("k", 129): "x"},
		{"k": strings.Repeat("v", 256)},
		{"semi;colon": "x"},
	} {
		_, err := c.AddTagsToVault(ctx, &glacier.AddTagsToVaultInput{VaultName: aws.String("v"), Tags: bad})
		wantAPIError(t, err, "InvalidParameterValueException", 400)
	}
	eleven := map[string]string{}
	for i := range 11 {
		eleven[fmt.Sprint("k", i)] = "v"
	}
	_, err := c.AddTagsToVault(ctx, &glacier.AddTagsToVaultInput{VaultName: aws.String("v"), Tags: eleven})
	wantAPIError(t, err, "InvalidParameterValueException", 400)
	wantWireError(t, ts.do(t, "POST", "/-/vaults/v/tags?operation=add", nil, []byte(`{"Tags":{}}`)), "MissingParameterValueException", 400)
	wantWireError(t, ts.do(t, "POST", "/-/vaults/v/tags?operation=add", nil, []byte(`{"Tags":`)), "SerializationException", 400)
	wantWireError(t, ts.do(t, "POST", "/-/vaults/v/tags?operation=frobnicate", nil, []byte(`{"Tags":{"a":"b"}}`)), "InvalidParameterValueException", 400)
	wantWireError(t, ts.do(t, "POST", "/-/vaults/v/tags", nil, []byte(`{"Tags":{"a":"b"}}`)), "InvalidParameterValueException", 400)

	// The vault holds at most 50 tags; a request that would exceed it changes nothing.
	for i := 0; i < 48; i += 10 {
		batch := map[string]string{}
		for j := i; j < min(i+10, 48); j++ {
			batch[fmt.Sprint("t", j)] = "v"
		}
		if _, err := c.AddTagsToVault(ctx, &glacier.AddTagsToVaultInput{VaultName: aws.String("v"), Tags: batch}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(list()); n != 50 {
		t.Fatalf("%d tags, want 50", n)
	}
	_, err = c.AddTagsToVault(ctx, &glacier.AddTagsToVaultInput{VaultName: aws.String("v"), Tags: map[string]string{"one-more": "x"}})
	wantAPIError(t, err, "LimitExceededException", 400)
	if _, err := c.AddTagsToVault(ctx, &glacier.AddTagsToVaultInput{VaultName: aws.String("v"), Tags: map[string]string{"Owner": "overwrite is fine at the limit"}}); err != nil {
		t.Fatal(err)
	}
	if n := len(list()); n != 50 {
		t.Fatalf("%d tags after refused add, want 50", n)
	}

	_, err = c.ListTagsForVault(ctx, &glacier.ListTagsForVaultInput{VaultName: aws.String("missing")})
	wantAPIError(t, err, "ResourceNotFoundException", 404)
}

func TestVaultNotifications(t *testing.T) {
	ts := mustServe(t)
	c := ts.client()
	ctx := context.Background()
	mustCreateVault(t, c, "v")

	_, err := c.GetVaultNotifications(ctx, &glacier.GetVaultNotificationsInput{VaultName: aws.String("v")})
	wantAPIError(t, err, "ResourceNotFoundException", 404)
	if _, err := c.DeleteVaultNotifications(ctx, &glacier.DeleteVaultNotificationsInput{VaultName: aws.String("v")}); err != nil {
		t.Fatalf("delete with nothing set: %v", err)
	}

	topic := "arn:aws:sns:us-east-1:" + ts.AccountID + ":archive-events"
	cfg := &glacier.SetVaultNotificationsInput{VaultName: aws.String("v"), VaultNotificationConfig: &gtypes.VaultNotificationConfig{SNSTopic: aws.String(topic), Events: []string{"ArchiveRetrievalCompleted", "InventoryRetrievalCompleted"}}}
	if _, err := c.SetVaultNotifications(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetVaultNotifications(ctx, &glacier.GetVaultNotificationsInput{VaultName: aws.String("v")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.VaultNotificationConfig.SNSTopic) != topic || len(got.VaultNotificationConfig.Events) != 2 {
		t.Fatalf("config = %+v", got.VaultNotificationConfig)
	}

	for _, bad := range []*gtypes.VaultNotificationConfig{
		{SNSTopic: aws.String("not-an-arn"), Events: []string{"ArchiveRetrievalCompleted"}},
		{SNSTopic: aws.String(topic), Events: []string{"ArchiveUploaded"}},
	} {
		_, err := c.SetVaultNotifications(ctx, &glacier.SetVaultNotificationsInput{VaultName: aws.String("v"), VaultNotificationConfig: bad})
		wantAPIError(t, err, "InvalidParameterValueException", 400)
	}
	wantWireError(t, ts.do(t, "PUT", "/-/vaults/v/notification-configuration", nil, []byte(`{"Events":["ArchiveRetrievalCompleted"]}`)), "MissingParameterValueException", 400)
	wantWireError(t, ts.do(t, "PUT", "/-/vaults/v/notification-configuration", nil, []byte(`{"SNSTopic":"`+topic+`","Events":[]}`)), "MissingParameterValueException", 400)
	wantWireError(t, ts.do(t, "PUT", "/-/vaults/v/notification-configuration", nil, nil), "MissingParameterValueException", 400)
	// The refused requests left the configuration as it was.
	got, _ = c.GetVaultNotifications(ctx, &glacier.GetVaultNotificationsInput{VaultName: aws.String("v")})
	if aws.ToString(got.VaultNotificationConfig.SNSTopic) != topic {
		t.Fatalf("config changed by refused requests: %+v", got.VaultNotificationConfig)
	}

	if _, err := c.DeleteVaultNotifications(ctx, &glacier.DeleteVaultNotificationsInput{VaultName: aws.String("v")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetVaultNotifications(ctx, &glacier.GetVaultNotificationsInput{VaultName: aws.String("v")})
	wantAPIError(t, err, "ResourceNotFoundException", 404)
}
