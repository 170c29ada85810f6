package glacier_test

import (
	"context"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/treehash"
)

// The authorization table: every exported method of glacier.Service is
// either an operation, reached by clients, with calls that a caller
// without permission must be refused (AccessDenied, nothing stored), or a
// helper that is not an operation, with the reason it needs no decision.
// TestAuthorizationTable enumerates the methods by reflection, so a new
// exported method fails the test until it is listed here: adding an
// operation means writing down how it is refused.

// authFixture is what a call works on: a vault holding an archive, an
// open multipart upload with one part and a succeeded retrieval job, and
// an empty vault. Both vaults carry an access policy that denies the
// admin user (allowed glacier:* by its identity policy) everything.
type authFixture struct {
	vault, empty string
	archive      string
	archiveData  []byte
	upload       string
	partData     []byte
	job          string
	lockID       string // set when the case asked for an InProgress lock
}

// authCall is one way of calling an operation.
type authCall struct {
	variant string // "" or a name for a second way of calling
	// call performs the operation as c on the fixture.
	call func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error
	// mutates says the owner's successful call changes the stored state
	// (and a read must change nothing even when allowed).
	mutates bool
	// deferred bodies are stored before the decision and removed after a
	// refusal, leaving a housekeeping intent behind.
	deferred bool
}

// authCase is one exported method.
type authCase struct {
	method string
	// action is the IAM action named in the refusal; glacier:<method>
	// when empty.
	action string
	calls  []authCall
	// vaultScoped operations consult the vault's policies (so the admin
	// user denied by the access policy is refused) and are refused on a
	// vault that does not exist too, before its absence is revealed.
	vaultScoped bool
	// lock asks for an InProgress vault lock in the fixture.
	lock bool
	// notOperation, when set, is why the method is not an operation and
	// makes no authorization decision.
	notOperation string
}

const ownerTopic = "arn:aws:sns:us-east-1:" + ownerAccount + ":jobs"

func denyAdminPolicy(vaultARN string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::` + ownerAccount + `:user/` + adminUser + `"},"Action":"glacier:*","Resource":"` + vaultARN + `"}]}`
}

const lockPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"glacier:DeleteArchive","Resource":"%s","Condition":{"NumericLessThan":{"glacier:ArchiveAgeInDays":"365"}}}]}`

func selectRequest(archiveID string) glacier.JobRequest {
	return glacier.JobRequest{
		Type: glacier.SelectJobAction, ArchiveID: archiveID,
		SelectParameters: &glacier.SelectParameters{
			ExpressionType:      "SQL",
			Expression:          "SELECT * FROM archive",
			InputSerialization:  &glacier.InputSerialization{CSV: &glacier.CSVInput{}},
			OutputSerialization: &glacier.OutputSerialization{CSV: &glacier.CSVOutput{}},
		},
		OutputLocation: &glacier.OutputLocation{S3: &glacier.S3Location{BucketName: "results", Prefix: "out"}},
	}
}

func ptr[T any](v T) *T { return &v }

var authTable = []authCase{
	// Vaults.
	{method: "CreateVault", calls: []authCall{{mutates: true, call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		_, err := s.CreateVault(ctx, c, ownerAccount, f.vault+"-new")
		return err
	}}, {variant: "existing", call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		_, err := s.CreateVault(ctx, c, ownerAccount, f.vault)
		return err
	}}}},
	{method: "DescribeVault", vaultScoped: true, calls: []authCall{{call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		_, err := s.DescribeVault(ctx, c, ownerAccount, f.vault)
		return err
	}}}},
	{method: "ListVaults", calls: []authCall{{call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		_, _, err := s.ListVaults(ctx, c, ownerAccount, "", 10)
		return err
	}}}},
	{method: "ListVaultPage", action: "glacier:ListVaults", calls: []authCall{{call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		_, err := s.ListVaultPage(ctx, c, ownerAccount, "", 10)
		return err
	}}}},
	{method: "DeleteVault", vaultScoped: true, calls: []authCall{{mutates: true, call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		return s.DeleteVault(ctx, c, ownerAccount, f.empty)
	}}}},

	// Access policy.
	{method: "SetVaultAccessPolicy", vaultScoped: true, calls: []authCall{{mutates: true, call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		return s.SetVaultAccessPolicy(ctx, c, ownerAccount, f.vault, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"`+ownerAccount+`"},"Action":"glacier:ListTagsForVault","Resource":"*"}]}`)
	}}}},
	{method: "GetVaultAccessPolicy", vaultScoped: true, calls: []authCall{{call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		_, err := s.GetVaultAccessPolicy(ctx, c, ownerAccount, f.vault)
		return err
	}}}},
	{method: "DeleteVaultAccessPolicy", vaultScoped: true, calls: []authCall{{mutates: true, call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		return s.DeleteVaultAccessPolicy(ctx, c, ownerAccount, f.vault)
	}}}},

	// Archives.
	{method: "UploadArchive", vaultScoped: true, calls: []authCall{{mutates: true, call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		_, err := s.UploadArchive(ctx, c, ownerAccount, f.vault, "new", body([]byte("new archive")))
		return err
	}}, {variant: "deferred signature", mutates: true, deferred: true, call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		b := body([]byte("new archive"))
		b.Deferred = true
		b.CheckLinear = func(treehash.Hash) error { return nil }
		_, err := s.UploadArchive(ctx, c, ownerAccount, f.vault, "new", b)
		return err
	}}}},
	{method: "DeleteArchive", vaultScoped: true, calls: []authCall{{mutates: true, call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		return s.DeleteArchive(ctx, c, ownerAccount, f.vault, f.archive)
	}}}},

	// Multipart uploads.
	{method: "InitiateMultipartUpload", vaultScoped: true, calls: []authCall{{mutates: true, call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		_, err := s.InitiateMultipartUpload(ctx, c, ownerAccount, f.vault, 1<<20, "mpu")
		return err
	}}}},
	{method: "UploadMultipartPart", vaultScoped: true, calls: []authCall{{mutates: true, call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		_, err := s.UploadMultipartPart(ctx, c, ownerAccount, f.vault, f.upload, 0, body(f.partData))
		return err
	}}, {variant: "deferred signature", mutates: true, deferred: true, call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		b := body(f.partData)
		b.Deferred = true
		b.CheckLinear = func(treehash.Hash) error { return nil }
		_, err := s.UploadMultipartPart(ctx, c, ownerAccount, f.vault, f.upload, 0, b)
		return err
	}}}},
	{method: "CompleteMultipartUpload", vaultScoped: true, calls: []authCall{{mutates: true, call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		_, err := s.CompleteMultipartUpload(ctx, c, ownerAccount, f.vault, f.upload, int64(len(f.partData)), treehash.Sum(f.partData))
		return err
	}}}},
	{method: "AbortMultipartUpload", vaultScoped: true, calls: []authCall{{mutates: true, call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		return s.AbortMultipartUpload(ctx, c, ownerAccount, f.vault, f.upload)
	}}}},
	{method: "ListParts", vaultScoped: true, calls: []authCall{{call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		_, _, _, err := s.ListParts(ctx, c, ownerAccount, f.vault, f.upload, 0, 10)
		return err
	}}}},
	{method: "ListMultipartUploads", vaultScoped: true, calls: []authCall{{call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		_, _, err := s.ListMultipartUploads(ctx, c, ownerAccount, f.vault, "", 10)
		return err
	}}}},

	// Notifications.
	{method: "SetVaultNotifications", vaultScoped: true, calls: []authCall{{mutates: true, call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		return s.SetVaultNotifications(ctx, c, ownerAccount, f.vault, glacier.NotificationConfig{SNSTopic: ownerTopic + "2", Events: []string{"ArchiveRetrievalCompleted"}})
	}}}},
	{method: "GetVaultNotifications", vaultScoped: true, calls: []authCall{{call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		_, err := s.GetVaultNotifications(ctx, c, ownerAccount, f.vault)
		return err
	}}}},
	{method: "DeleteVaultNotifications", vaultScoped: true, calls: []authCall{{mutates: true, call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		return s.DeleteVaultNotifications(ctx, c, ownerAccount, f.vault)
	}}}},

	// Tags.
	{method: "AddTagsToVault", vaultScoped: true, calls: []authCall{{mutates: true, call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		return s.AddTagsToVault(ctx, c, ownerAccount, f.vault, map[string]string{"team": "blue"})
	}}}},
	{method: "RemoveTagsFromVault", vaultScoped: true, calls: []authCall{{mutates: true, call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		return s.RemoveTagsFromVault(ctx, c, ownerAccount, f.vault, []string{"env"})
	}}}},
	{method: "ListTagsForVault", vaultScoped: true, calls: []authCall{{call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		_, err := s.ListTagsForVault(ctx, c, ownerAccount, f.vault)
		return err
	}}}},

	// Vault Lock.
	{method: "InitiateVaultLock", vaultScoped: true, calls: []authCall{{mutates: true, call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		_, err := s.InitiateVaultLock(ctx, c, ownerAccount, f.vault, strings.Replace(lockPolicy, "%s", s.VaultARN(ownerAccount, f.vault), 1))
		return err
	}}}},
	{method: "GetVaultLock", vaultScoped: true, lock: true, calls: []authCall{{call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		_, err := s.GetVaultLock(ctx, c, ownerAccount, f.vault)
		return err
	}}}},
	{method: "CompleteVaultLock", vaultScoped: true, lock: true, calls: []authCall{{mutates: true, call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		return s.CompleteVaultLock(ctx, c, ownerAccount, f.vault, f.lockID)
	}}}},
	{method: "AbortVaultLock", vaultScoped: true, lock: true, calls: []authCall{{mutates: true, call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		return s.AbortVaultLock(ctx, c, ownerAccount, f.vault)
	}}}},

	// Jobs.
	{method: "InitiateJob", vaultScoped: true, calls: []authCall{{variant: "archive-retrieval", mutates: true, call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		_, err := s.InitiateJob(ctx, c, ownerAccount, f.vault, glacier.JobRequest{Type: glacier.ArchiveRetrieval, ArchiveID: f.archive})
		return err
	}}, {variant: "inventory-retrieval", mutates: true, call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		_, err := s.InitiateJob(ctx, c, ownerAccount, f.vault, glacier.JobRequest{Type: glacier.InventoryRetrieval})
		return err
	}}, {variant: "select", mutates: true, call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		_, err := s.InitiateJob(ctx, c, ownerAccount, f.vault, selectRequest(f.archive))
		return err
	}}}},
	{method: "DescribeJob", vaultScoped: true, calls: []authCall{{call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		_, err := s.DescribeJob(ctx, c, ownerAccount, f.vault, f.job)
		return err
	}}}},
	{method: "ListJobs", vaultScoped: true, calls: []authCall{{call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		_, _, err := s.ListJobs(ctx, c, ownerAccount, f.vault, glacier.JobFilter{}, "", 10)
		return err
	}}}},
	{method: "GetJobOutput", vaultScoped: true, calls: []authCall{{call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		out, err := s.GetJobOutput(ctx, c, ownerAccount, f.vault, f.job, nil)
		if err == nil {
			out.Body.Close()
		}
		return err
	}}, {variant: "range", call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		out, err := s.GetJobOutput(ctx, c, ownerAccount, f.vault, f.job, &glacier.ByteRange{First: 1, Last: 3})
		if err == nil {
			out.Body.Close()
		}
		return err
	}}}},

	// Account-level retrieval controls.
	{method: "GetDataRetrievalPolicy", calls: []authCall{{call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		_, err := s.GetDataRetrievalPolicy(ctx, c, ownerAccount)
		return err
	}}}},
	{method: "SetDataRetrievalPolicy", calls: []authCall{{mutates: true, call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		return s.SetDataRetrievalPolicy(ctx, c, ownerAccount, []glacier.RetrievalPolicy{{Strategy: "BytesPerHour", BytesPerHour: 1 << 40}})
	}}}},
	{method: "PurchaseProvisionedCapacity", calls: []authCall{{mutates: true, call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		_, err := s.PurchaseProvisionedCapacity(ctx, c, ownerAccount)
		return err
	}}}},
	{method: "ListProvisionedCapacity", calls: []authCall{{call: func(ctx context.Context, s *glacier.Service, c *glacier.Caller, f authFixture) error {
		_, err := s.ListProvisionedCapacity(ctx, c, ownerAccount)
		return err
	}}}},

	// Not operations: no client request reaches them with a caller.
	{method: "VaultARN", notOperation: "pure: formats an ARN from its arguments, reads and changes nothing"},
	{method: "TopicUsableBy", notOperation: "pure: answers from the operator's configuration (TopicAccounts), used while validating a request's parameters"},
	{method: "RunDueWork", notOperation: "the scheduler's pass (internal/jobs): completes jobs already authorized at InitiateJob, takes inventories and purges on the service clock"},
	{method: "ExpireIdleUploads", notOperation: "housekeeping on the service clock: discards uploads idle beyond the operator's timeout"},
	{method: "Sweep", notOperation: "housekeeping run by the server process: removes blobs nothing references"},
	{method: "Reconcile", notOperation: "housekeeping run by the server process: compares blob and metadata stores"},
	{method: "ProcessIntents", notOperation: "housekeeping run by the server process: settles recorded blob intents"},
	{method: "SpaceUsage", notOperation: "operator report (metrics, health): sums stored bytes, changes nothing"},
	{method: "IntegrityCounters", notOperation: "operator report (metrics): in-memory counters"},
	{method: "DamagedArchives", notOperation: "operator report (metrics, health): archives the scrubber found damaged"},
	{method: "Scrub", notOperation: "integrity pass started by the operator (permafrost scrub) or the scrub loop"},
	{method: "ScrubPass", notOperation: "one pass of the server's background scrub, started by the scheduler"},
	{method: "CanScrub", notOperation: "reports whether the archives can be scrubbed at all; no data is read"},
	{method: "Reset", notOperation: "test installations only (serve --dev / --test-clock, POST /_permafrost/v1/reset): empties the installation; gated by the API's test mode, not by IAM"},
	{method: "ImportState", notOperation: "operator tool (permafrost import) with direct store access; takes no caller"},
	{method: "ImportArchive", notOperation: "operator tool (permafrost import) with direct store access; takes no caller"},
	{method: "RetentionFloor", notOperation: "operator tool (permafrost compliance) and lock completion: computes a vault's retention floor, changes nothing"},
	{method: "RetentionStatus", notOperation: "operator tool (permafrost compliance): reports retention progress"},
	{method: "ApplyRetention", notOperation: "follows an authorized CompleteVaultLock (and the operator tool): extends object-lock retention on the blob store"},
	{method: "ResumeRetention", notOperation: "server start-up: resumes retention work of locks completed before a restart"},
	// Identity administration: operator use cases (permafrost accounts,
	// keys, users, the first-start and --dev keys). They take no caller:
	// whoever can open the stores administers identities; no API request
	// reaches them.
	{method: "CreateAccount", notOperation: "operator use case (permafrost accounts create); no API request reaches it"},
	{method: "Account", notOperation: "operator use case (import's account check); no API request reaches it"},
	{method: "ListAccounts", notOperation: "operator use case (permafrost accounts list); no API request reaches it"},
	{method: "EnsureAccount", notOperation: "operator use case (server start-up keys); no API request reaches it"},
	{method: "CreateAccessKey", notOperation: "operator use case (permafrost keys create); no API request reaches it"},
	{method: "AccessKey", notOperation: "operator use case (permafrost keys); no API request reaches it"},
	{method: "ListAccessKeys", notOperation: "operator use case (permafrost keys list, the start-up banner); no API request reaches it"},
	{method: "DeleteAccessKey", notOperation: "operator use case (permafrost keys delete); no API request reaches it"},
	{method: "EnsureAccessKey", notOperation: "server start-up: the key given in the environment or by --dev"},
	{method: "CreateFirstAccessKey", notOperation: "server start-up: the first key of an installation without any"},
	{method: "CreateUser", notOperation: "operator use case (permafrost users create); no API request reaches it"},
	{method: "ListUsers", notOperation: "operator use case (permafrost users list); no API request reaches it"},
	{method: "DeleteUser", notOperation: "operator use case (permafrost users delete); no API request reaches it"},
	{method: "StoredLockPolicy", notOperation: "operator tool (permafrost policy validate): reads the stored lock record for analysis, changes nothing"},
	{method: "CopyVaultLock", notOperation: "operator tool (permafrost import --copy-lock) with direct store access; takes no caller"},
}

// deniedCallers are callers without permission on the owner's resources.
func deniedCallers(vaultScoped bool) map[string]*glacier.Caller {
	m := map[string]*glacier.Caller{
		"another account's root":     root(otherAccount),
		"a user with no policy":      user(ownerAccount, noPolicyUser),
		"a user that was deleted":    user(ownerAccount, "ghost"),
		"no authenticated principal": nil,
	}
	if vaultScoped {
		m["a user the vault policy denies"] = user(ownerAccount, adminUser)
	}
	return m
}

// TestAuthorizationTable: every exported Service method is in authTable,
// and every operation refuses each caller without permission with
// AccessDenied naming its action, leaving the stored state as it was —
// also on a vault that does not exist — while the owner's root succeeds
// with the same call (and its change is visible, so "nothing changed" is a
// real check).
func TestAuthorizationTable(t *testing.T) {
	byName := map[string]authCase{}
	for _, c := range authTable {
		if _, dup := byName[c.method]; dup {
			t.Errorf("%s is listed twice", c.method)
		}
		byName[c.method] = c
		if (c.notOperation == "") == (len(c.calls) == 0) {
			t.Errorf("%s must have either calls (an operation) or a notOperation reason, not both or neither", c.method)
		}
	}
	typ := reflect.TypeOf(&glacier.Service{})
	var methods []string
	for i := range typ.NumMethod() {
		methods = append(methods, typ.Method(i).Name)
	}
	sort.Strings(methods)
	for _, m := range methods {
		if _, ok := byName[m]; !ok {
			t.Errorf("glacier.Service.%s is not in the authorization table (authz_table_test.go): "+
				"list it as an operation with a call a caller without permission must be refused, "+
				"or as a non-operation with the reason it makes no authorization decision", m)
		}
	}
	for name := range byName {
		if _, ok := typ.MethodByName(name); !ok {
			t.Errorf("the authorization table lists %s, which glacier.Service no longer has", name)
		}
	}

	e := newService(t, func(s *glacier.Service) {
		// Jobs finish as they are initiated, so the fixture has a
		// succeeded job to read.
		s.JobDelays = map[string]time.Duration{glacier.TierExpedited: 0, glacier.TierStandard: 0, glacier.TierBulk: 0, "inventory": 0}
	})
	n := 0
	for _, c := range authTable {
		for _, call := range c.calls {
			n++
			name := c.method
			if call.variant != "" {
				name += "/" + call.variant
			}
			t.Run(name, func(t *testing.T) {
				e.t = t
				defer func() { e.t = nil }()
				f := authSetup(t, e, n, c.lock)
				ctx := context.Background()
				action := c.action
				if action == "" {
					action = "glacier:" + c.method
				}
				var ignore []string
				if call.deferred {
					ignore = []string{"table blob_intents"}
				}
				check := func(label string, f authFixture) {
					for who, caller := range deniedCallers(c.vaultScoped && label == "") {
						before := e.snapshot()
						err := call.call(ctx, e.svc, caller, f)
						if err == nil {
							t.Errorf("%s%s: the call succeeded; want AccessDenied", who, label)
							continue
						}
						if k := glacier.KindOf(err); k != glacier.KindAccessDenied {
							t.Errorf("%s%s: got %v (%v), want AccessDenied", who, label, k, err)
							continue
						}
						want := "is not authorized to perform: " + action + " on resource: "
						if caller == nil {
							want = "no authenticated principal"
						} else {
							want = "User: " + caller.Principal.ARN + " " + want
						}
						if msg := glacier.MessageOf(err); !strings.Contains(msg, want) {
							t.Errorf("%s%s: message %q does not contain %q", who, label, msg, want)
						}
						e.unchanged(before, who+label, ignore...)
					}
				}
				check("", f)
				if c.vaultScoped {
					missing := f
					missing.vault, missing.empty = "no-such-vault", "no-such-vault"
					check(" on a vault that does not exist", missing)
				}

				// The owner may, and (for a write) the change shows.
				before := e.snapshot()
				if err := call.call(ctx, e.svc, owner, f); err != nil {
					t.Fatalf("the owner's root: %v", err)
				}
				d := before.diff(e.snapshot())
				switch {
				case call.mutates && d == "":
					t.Errorf("the owner's call changed nothing; the no-change check would prove nothing")
				case !call.mutates && d != "":
					t.Errorf("a read changed the stored state:\n%s", d)
				}
			})
		}
	}
}

// authSetup builds a fresh fixture (vault names numbered by i) as the
// owner.
func authSetup(t *testing.T, e *env, i int, lock bool) authFixture {
	t.Helper()
	ctx := context.Background()
	s := e.svc
	f := authFixture{
		vault:       "vault-" + strconv.Itoa(i),
		empty:       "empty-" + strconv.Itoa(i),
		archiveData: []byte("a,b,c\n1,2,3\n"),
		partData:    payload(100),
	}
	for _, v := range []string{f.vault, f.empty} {
		e.mustVault(v)
		if err := s.SetVaultAccessPolicy(ctx, owner, ownerAccount, v, denyAdminPolicy(s.VaultARN(ownerAccount, v))); err != nil {
			t.Fatal(err)
		}
	}
	f.archive = e.mustArchive(f.vault, f.archiveData).ID
	u, err := s.InitiateMultipartUpload(ctx, owner, ownerAccount, f.vault, 1<<20, "mpu")
	if err != nil {
		t.Fatal(err)
	}
	f.upload = u.ID
	if _, err := s.UploadMultipartPart(ctx, owner, ownerAccount, f.vault, f.upload, 0, body(f.partData)); err != nil {
		t.Fatal(err)
	}
	if err := s.AddTagsToVault(ctx, owner, ownerAccount, f.vault, map[string]string{"env": "test"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetVaultNotifications(ctx, owner, ownerAccount, f.vault, glacier.NotificationConfig{SNSTopic: ownerTopic, Events: []string{"InventoryRetrievalCompleted"}}); err != nil {
		t.Fatal(err)
	}
	j, err := s.InitiateJob(ctx, owner, ownerAccount, f.vault, glacier.JobRequest{Type: glacier.ArchiveRetrieval, ArchiveID: f.archive})
	if err != nil {
		t.Fatal(err)
	}
	f.job = j.ID
	if got, err := s.DescribeJob(ctx, owner, ownerAccount, f.vault, f.job); err != nil || got.Status != glacier.JobSucceeded {
		t.Fatalf("fixture job: %+v, %v; want Succeeded", got.Status, err)
	}
	if lock {
		f.lockID, err = s.InitiateVaultLock(ctx, owner, ownerAccount, f.vault, strings.Replace(lockPolicy, "%s", s.VaultARN(ownerAccount, f.vault), 1))
		if err != nil {
			t.Fatal(err)
		}
	}
	return f
}
