package glacier

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/permafrost/permafrost/internal/inventory"
)

// The scheduler's side of jobs: internal/jobs calls RunDueWork when the
// clock may have reached something due. Every step is safe to repeat and
// to run on several nodes at once: FinishJob only ends a job that is still
// in progress, so a job completes (and notifies) exactly once.

// RunDueWork completes due jobs, takes due inventory snapshots and forgets
// expired jobs. It returns how many jobs it finished. (Idle multipart
// uploads are discarded by the scheduler's upload-expiry task:
// ExpireIdleUploads.)
func (s *Service) RunDueWork(ctx context.Context) (int, error) {
	if s.InventoryInterval > 0 {
		if err := s.takeDueInventories(ctx); err != nil {
			return 0, err
		}
	}
	n, err := s.finishDueJobs(ctx)
	if err != nil {
		return n, err
	}
	orphans, err := s.Housekeeping.PurgeJobs(ctx, s.Clock.Now().Add(-s.jobRetention()))
	if err != nil {
		return n, err
	}
	s.deleteBlobs(ctx, orphans)
	return n, nil
}

func (s *Service) finishDueJobs(ctx context.Context) (int, error) {
	done := 0
	for {
		jobs, err := s.Jobs.DueJobs(ctx, s.Clock.Now(), 100)
		if err != nil {
			return done, err
		}
		before := done
		for _, j := range jobs {
			if err := s.finishJob(ctx, j); errors.Is(err, errJobBeingFinished) {
				continue // InitiateJob is producing it inline
			} else if err != nil {
				// Left in progress: the next pass tries again.
				s.logger().Warn("job completion failed; will retry", "job_id", j.ID, "err", err)
				continue
			}
			done++
		}
		// A full page where nothing finished (all busy or failing) would
		// come back unchanged: the next pass tries again.
		if len(jobs) < 100 || done == before || ctx.Err() != nil {
			return done, nil
		}
	}
}

// finishJob produces a job's result and commits it with its notifications.
func (s *Service) finishJob(ctx context.Context, j Job) error {
	done, ok := s.startFinishing(j.ID)
	if !ok {
		return errJobBeingFinished
	}
	defer done()
	j.CompletedAt = s.Clock.Now()
	j.Status, j.StatusMessage = JobSucceeded, "Succeeded"
	if j.Action == InventoryRetrieval {
		if err := s.produceInventory(ctx, &j); err != nil {
			return err
		}
	}
	if j.Action == ArchiveRetrieval || j.Action == SelectJobAction {
		if ready, err := s.awaitRestores(ctx, &j); err != nil || !ready {
			return err // archive storage class: restores still pending
		}
	}
	if j.Action == SelectJobAction && j.Status == JobSucceeded {
		if err := s.runSelectJob(ctx, &j); err != nil {
			return ignoreConflict(err)
		}
		j.CompletedAt = s.Clock.Now()
	}
	if j.Action == ArchiveRetrieval && j.Status == JobSucceeded {
		// Never report Succeeded for bytes that do not match their hashes.
		// (A job whose restore failed has nothing to verify.)
		if msg, err := s.verifyRetrieval(ctx, j); err != nil {
			return err
		} else if msg != "" {
			j.Status, j.StatusMessage = JobFailed, msg
		}
	}
	err := s.Jobs.FinishJob(ctx, j, s.jobNotifications(ctx, j))
	if j.Action == ArchiveRetrieval && IsNotFound(err) {
		j.Status, j.StatusMessage = JobFailed, "The archive was deleted before the job completed: "+j.ArchiveID
		err = s.Jobs.FinishJob(ctx, j, s.jobNotifications(ctx, j))
	}
	if err != nil && j.OutputKey != "" {
		s.deleteBlobs(ctx, []string{j.OutputKey})
	}
	if KindOf(err) == KindConflict {
		return nil // finished elsewhere, or the vault is gone
	}
	if err == nil && s.Notifier != nil {
		s.Notifier.Wake()
	}
	return err
}

// jobNotifications are the messages a finished job sends: to its own
// SNSTopic and to the vault's configured topic when the event is
// subscribed (data-plane.md §7), once per distinct topic.
func (s *Service) jobNotifications(ctx context.Context, j Job) []Notification {
	var topics []string
	if j.SNSTopic != "" {
		topics = append(topics, j.SNSTopic)
	}
	event := "ArchiveRetrievalCompleted"
	if j.Action == InventoryRetrieval {
		event = "InventoryRetrievalCompleted"
	}
	if cfg, err := s.Vaults.GetNotificationConfig(ctx, j.AccountID, j.VaultName); err == nil && j.Action != SelectJobAction &&
		slices.Contains(cfg.Events, event) && !slices.Contains(topics, cfg.SNSTopic) {
		topics = append(topics, cfg.SNSTopic)
	}
	// A topic stored before the account rule (or since disallowed by the
	// operator) receives nothing from another account.
	topics = slices.DeleteFunc(topics, func(t string) bool {
		if s.TopicUsableBy(t, j.AccountID) {
			return false
		}
		s.logger().Warn("not notifying a topic of another account", "job", j.ID, "topic", t, "account", j.AccountID)
		return true
	})
	if len(topics) == 0 {
		return nil
	}
	msg := JobEventMessage(j) // rendered for the wire at delivery
	notes := make([]Notification, len(topics))
	for i, t := range topics {
		notes[i] = Notification{
			ID:            newMessageID(),
			TopicARN:      t,
			Subject:       "Notification From Amazon Glacier",
			Message:       msg,
			CreatedAt:     j.CompletedAt,
			NextAttemptAt: j.CompletedAt,
		}
	}
	return notes
}

// produceInventory writes an inventory job's output from the vault's last
// snapshot (a fresh one first when inventories are always current),
// streaming snapshot → filter → output blob.
func (s *Service) produceInventory(ctx context.Context, j *Job) error {
	v, err := s.Vaults.GetVault(ctx, j.AccountID, j.VaultName)
	if err != nil {
		return err
	}
	if s.InventoryInterval <= 0 && (v.Inventory.Key == "" || v.LastWriteAt.After(v.LastInventoryAt)) && !v.LastWriteAt.IsZero() {
		if err := s.takeInventory(ctx, v); err != nil {
			return err
		}
		if v, err = s.Vaults.GetVault(ctx, j.AccountID, j.VaultName); err != nil {
			return err
		}
	}
	j.InventoryDate = v.LastInventoryAt
	if j.InventoryDate.IsZero() {
		j.InventoryDate = v.CreatedAt
	}
	var snapshot io.ReadCloser = io.NopCloser(strings.NewReader(""))
	if v.Inventory.Key != "" {
		if snapshot, err = s.Blobs.Open(ctx, v.Inventory.Key, 0, -1); err != nil {
			return err
		}
	} else {
		// An empty snapshot in the snapshot format.
		var b strings.Builder
		w := inventory.NewSnapshotWriter(&b)
		if err := w.Close(); err != nil {
			return err
		}
		snapshot = io.NopCloser(strings.NewReader(b.String()))
	}
	defer snapshot.Close()

	filter := inventory.Filter{StartDate: j.StartDate, EndDate: j.EndDate, Limit: j.Limit, Marker: j.Marker}
	pr, pw := io.Pipe()
	type result struct {
		next string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		_, next, err := inventory.Generate(snapshot, pw, inventory.Format(j.Format), s.VaultARN(j.AccountID, j.VaultName), j.InventoryDate, filter)
		pw.CloseWithError(err)
		done <- result{next, err}
	}()
	key := newBlobKey()
	size, err := s.putReadable(ctx, key, pr)
	pr.CloseWithError(io.ErrClosedPipe) // unblock the generator if Put stopped early
	res := <-done
	if err == nil {
		err = res.err
	}
	if err != nil {
		s.deleteBlobs(ctx, []string{key})
		return err
	}
	j.OutputKey, j.OutputSize, j.NextMarker = key, size, res.next
	return nil
}

// inventoryClaim is how long a node has to take an inventory it claimed.
const inventoryClaim = 10 * time.Minute

// takeDueInventories snapshots every vault written since its last
// inventory once per InventoryInterval (data-plane.md §6.1).
func (s *Service) takeDueInventories(ctx context.Context) error {
	vs, err := s.Housekeeping.VaultsNeedingInventory(ctx, s.Clock.Now().Add(-s.InventoryInterval), 100)
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	for _, v := range vs {
		// Claimed for a while: long enough to take it, short enough that a
		// node that died meanwhile is replaced soon.
		claimed, err := s.Housekeeping.ClaimInventory(ctx, v.AccountID, v.Name, now, now.Add(inventoryClaim))
		if err != nil || !claimed {
			continue // another node is taking it (or the vault is gone)
		}
		if err := s.takeInventory(ctx, v); err != nil {
			s.logger().Warn("inventory failed; will retry", "vault", s.VaultARN(v.AccountID, v.Name), "err", err)
		}
	}
	return nil
}

// takeInventory streams the vault's archives into a new snapshot blob and
// records it. The time is read before the scan: a write racing the scan is
// after the snapshot's time, so the vault counts as written since.
func (s *Service) takeInventory(ctx context.Context, v Vault) error {
	takenAt := s.Clock.Now()
	pr, pw := io.Pipe()
	type result struct {
		count, size int64
		err         error
	}
	done := make(chan result, 1)
	go func() {
		w := inventory.NewSnapshotWriter(pw)
		err := s.Archives.ScanArchives(ctx, v.AccountID, v.Name, func(a Archive) error {
			return w.Add(inventory.Item{ArchiveID: a.ID, Description: a.Description, CreatedAt: a.CreatedAt, Size: a.Size, TreeHash: a.TreeHash.String()})
		})
		if err == nil {
			err = w.Close()
		}
		pw.CloseWithError(err)
		done <- result{w.Count(), w.Size(), err}
	}()
	key := newBlobKey()
	_, err := s.putReadable(ctx, key, pr)
	pr.CloseWithError(io.ErrClosedPipe)
	res := <-done
	if err == nil {
		err = res.err
	}
	if err != nil {
		s.deleteBlobs(ctx, []string{key})
		return err
	}
	replaced, err := s.Housekeeping.PutInventory(ctx, v.AccountID, v.Name, Inventory{Key: key, Count: res.count, Size: res.size, TakenAt: takenAt})
	if err != nil {
		s.deleteBlobs(ctx, []string{key})
		return err
	}
	if replaced != "" {
		s.deleteBlobs(ctx, []string{replaced})
	}
	return nil
}

// wakeScheduler asks the scheduler to look for due work now; with a zero
// delay the job is finished before InitiateJob returns, so development
// setups (--job-delays none) see it complete at once.
func (s *Service) wakeScheduler() {
	if s.Scheduler != nil {
		s.Scheduler.Wake()
	}
}
