package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// reconcileReport is the --json output of `permafrost reconcile`.
type reconcileReport struct {
	IntentsRemoved int     `json:"intents_removed"`
	BlobsRemoved   int     `json:"unreferenced_blobs_removed"`
	IntentSeconds  float64 `json:"intent_pass_seconds"`
	ListSeconds    float64 `json:"listing_seconds"`
}

// runReconcile is `permafrost reconcile`: the full reconciliation of the
// blob store against the metadata, now. The server does the same in the
// background every --reconcile-interval at a bounded rate; its regular
// housekeeping reads only the blob intents. Beside a running server (or
// on stores shared with other nodes) it removes only what no upload may
// still commit: blobs and intents older than glacier.SweepGrace.
func runReconcile(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var sf storeFlags
	var asJSON bool
	var rate int
	var all bool
	fs := flagSet("reconcile", "reconcile [flags]")
	fs.SetOutput(stderr)
	sf.bind(fs)
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	intFlag(fs, &rate, "reconcile-rate", 0, "check at most this many blobs per second; 0 as fast as the stores allow")
	fs.BoolVar(&all, "all", false, "remove every unreferenced blob whatever its age: for a stopped embedded installation (after a restore); refused while a server owns the directory")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if rate < 0 {
		return usageError{"--reconcile-rate must not be negative"}
	}
	if all {
		// Like serve: own the directories, so no upload can be in flight.
		locks, err := lockOwnedDirs(Config{DataDir: sf.DataDir, Meta: sf.Meta, Blobs: sf.Blobs})
		if err != nil {
			return err
		}
		defer releaseLocks(locks)
	} else {
		sf.ReadSide = true
	}
	st, err := openStores(ctx, sf)
	if err != nil {
		return err
	}
	defer st.Close()
	// The leftovers no upload may still commit (glacier.LeftoverCutoff).
	cut := glacier.LeftoverCutoff(time.Now(), time.Time{}, st.shared)
	if all {
		if cut, err = glacier.AllLeftoversCutoff(time.Now(), st.shared); err != nil {
			return usageError{"--all is for an embedded installation: " + err.Error()}
		}
	}
	svc := operatorService(st)

	var rep reconcileReport
	start := time.Now()
	if rep.IntentsRemoved, err = svc.ProcessIntents(ctx, cut); err != nil {
		return fmt.Errorf("reconcile: blob intents: %w", err)
	}
	rep.IntentSeconds = time.Since(start).Seconds()
	start = time.Now()
	if rep.BlobsRemoved, err = svc.Reconcile(ctx, cut, rate); err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	rep.ListSeconds = time.Since(start).Seconds()
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	age := "older than " + glacier.SweepGrace.String()
	if all {
		age = "of any age"
	}
	fmt.Fprintf(stdout, "removed %d unreferenced blobs %s (listing took %.1fs; %d settled intents)\n",
		rep.BlobsRemoved, age, rep.ListSeconds, rep.IntentsRemoved)
	return nil
}
