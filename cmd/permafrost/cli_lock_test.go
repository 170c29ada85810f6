package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestAWSCLIVaultLock walks README's "Locking a vault" with the real aws
// CLI and the same policy files: a draft lock is enforced at once, an
// aborted one is gone, a completed one can be neither aborted nor
// replaced, and after 366 days (test clock) the protected archive can be
// deleted.
func TestAWSCLIVaultLock(t *testing.T) {
	ts := mustServe(t)
	dir := t.TempDir()
	cli := newAWSCLI(t, ts, dir)
	const vault = "records"

	var vaultOut struct{ Location string }
	cli.json(&vaultOut, "create-vault", "--vault-name", vault)
	file := filepath.Join(dir, "record.bin")
	if err := os.WriteFile(file, randomBytes(1000), 0o600); err != nil {
		t.Fatal(err)
	}
	var up struct{ ArchiveID string }
	cli.json(&up, "upload-archive", "--vault-name", vault, "--body", file)

	// The lock policy, wrapped as the CLI's --policy expects it.
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"deny-young-deletes","Effect":"Deny",` +
		`"Principal":"*","Action":"glacier:DeleteArchive",` +
		`"Resource":"arn:aws:glacier:us-east-1:` + ts.AccountID + `:vaults/` + vault + `",` +
		`"Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"365"}}}]}`
	wrapped, _ := json.Marshal(map[string]string{"Policy": doc})
	policyFile := filepath.Join(dir, "lock-policy.json")
	if err := os.WriteFile(policyFile, wrapped, 0o600); err != nil {
		t.Fatal(err)
	}

	var first struct{ LockID string }
	cli.json(&first, "initiate-vault-lock", "--vault-name", vault, "--policy", "file://"+policyFile)
	if len(first.LockID) != 24 {
		t.Fatalf("initiate-vault-lock lockId = %q, want 24 characters", first.LockID)
	}
	var lock struct{ Policy, State, CreationDate, ExpirationDate string }
	cli.json(&lock, "get-vault-lock", "--vault-name", vault)
	if lock.State != "InProgress" || lock.Policy != doc {
		t.Errorf("get-vault-lock = %+v, want InProgress with the policy as set", lock)
	}
	created, _ := time.Parse(time.RFC3339, lock.CreationDate)
	expires, _ := time.Parse(time.RFC3339, lock.ExpirationDate)
	if expires.Sub(created) != 24*time.Hour {
		t.Errorf("lock window %s → %s, want 24 h", lock.CreationDate, lock.ExpirationDate)
	}
	// The draft binds at once, the root included.
	cli.wantError("AccessDeniedException", "delete-archive", "--vault-name", vault, "--archive-id="+up.ArchiveID)

	// Abort and start again: a new lock id; the old one no longer completes.
	cli.json(nil, "abort-vault-lock", "--vault-name", vault)
	cli.wantError("ResourceNotFoundException", "get-vault-lock", "--vault-name", vault)
	var second struct{ LockID string }
	cli.json(&second, "initiate-vault-lock", "--vault-name", vault, "--policy", "file://"+policyFile)
	if second.LockID == first.LockID {
		t.Fatalf("re-initiated lock kept id %s", first.LockID)
	}
	cli.wantError("InvalidParameterValueException", "complete-vault-lock", "--vault-name", vault, "--lock-id="+first.LockID)
	cli.json(nil, "complete-vault-lock", "--vault-name", vault, "--lock-id="+second.LockID)
	cli.json(&lock, "get-vault-lock", "--vault-name", vault)
	if lock.State != "Locked" {
		t.Errorf("after complete-vault-lock: state %q, want Locked", lock.State)
	}

	// Locked: nothing undoes it, and an access policy cannot loosen it.
	cli.wantError("AccessDeniedException", "abort-vault-lock", "--vault-name", vault)
	cli.wantError("AccessDeniedException", "initiate-vault-lock", "--vault-name", vault, "--policy", "file://"+policyFile)
	allowAll := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"glacier:*","Resource":"*"}]}`
	access, _ := json.Marshal(map[string]string{"Policy": allowAll})
	accessFile := filepath.Join(dir, "access-policy.json")
	if err := os.WriteFile(accessFile, access, 0o600); err != nil {
		t.Fatal(err)
	}
	cli.json(nil, "set-vault-access-policy", "--vault-name", vault, "--policy", "file://"+accessFile)
	var got struct {
		Policy struct{ Policy string } `json:"policy"`
	}
	cli.json(&got, "get-vault-access-policy", "--vault-name", vault)
	if got.Policy.Policy != allowAll {
		t.Errorf("get-vault-access-policy = %q, want %q", got.Policy.Policy, allowAll)
	}
	cli.wantError("AccessDeniedException", "delete-archive", "--vault-name", vault, "--archive-id="+up.ArchiveID)

	// A year and a day later the archive may go.
	ts.advance(t, 366*24*time.Hour)
	cli.json(nil, "delete-archive", "--vault-name", vault, "--archive-id="+up.ArchiveID)
}
