// Package s3 is a glacier.BlobStore on an S3 bucket: AWS S3 or a
// compatible server (versitygw, MinIO, Ceph RGW...), through aws-sdk-go-v2.
//
// Configuration is one URL (ParseURL):
//
//	s3://bucket/prefix?endpoint=URL&region=R&storage-class=C&path-style=B&conditional-write=B
//
// Blob key k is the object prefix+k. Without endpoint the bucket is on AWS;
// region defaults to us-east-1 (the URL's region is used as is, never
// AWS_REGION or a profile's, so that one URL means one place); path-style
// addressing defaults to true with an endpoint (self-hosted servers rarely
// have wildcard DNS) and false on AWS. Credentials come from the store's
// own settings, PERMAFROST_S3_ACCESS_KEY_ID/PERMAFROST_S3_SECRET_ACCESS_KEY
// (and _SESSION_TOKEN) or PERMAFROST_S3_PROFILE (CredentialsFromEnv), and
// without them from the standard chain of the SDK:
// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and the shared
// config and credentials files, SSO, web identity, ECS and EC2 roles;
// never from the URL. Open checks that there are credentials,
// that the bucket answers HeadBucket (with a message saying what to fix:
// missing bucket, access denied, wrong region, unreachable endpoint) and
// that the server enforces conditional writes (below).
//
// Storage classes. GLACIER (Flexible Retrieval) and DEEP_ARCHIVE objects
// need a RestoreObject before a GetObject: with those classes the store is
// a glacier.Restorer (restore.go), and archive jobs restore what they read
// before they complete. STANDARD, STANDARD_IA, ONEZONE_IA, GLACIER_IR and
// INTELLIGENT_TIERING (without its opt-in archive tiers) read immediately;
// other names are passed on, for providers with classes of their own. A
// lifecycle rule that moves the objects of a store configured with another
// class to GLACIER breaks reads: such a GET fails with InvalidObjectState,
// reported as an internal error that says the object must be restored.
// The minimum storage durations of the IA and
// GLACIER_IR classes apply to short-lived blobs (upload parts) too.
//
// Put streams with bounded memory. It reads up to PartSize (8 MiB) into a
// pooled buffer; a body that ends within it is one PutObject. A longer one
// is a multipart upload of PartSize parts, the next part read from the
// caller while the previous one is sent: a Put holds at most two buffers,
// whatever the size (blobs up to 10,000 parts, 80 GiB; Glacier's parts
// and single uploads are at most 4 GiB). Parts carry CRC32 checksums,
// declared when the upload is created, as the SDK's upload manager does.
// Put returns nil once S3 acknowledged the PutObject or the
// CompleteMultipartUpload: the object is then as durable as the bucket
// makes it. The context is checked before every read and once more before
// completing; a Put that fails (reader error, cancellation, server error)
// aborts its multipart upload, so nothing becomes visible under the key.
// The abort runs under its own timeout even when the Put's context has
// ended; if the server is unreachable it fails and leaves an incomplete
// upload, invisible but billed: buckets should have a lifecycle rule
// AbortIncompleteMultipartUpload (a few days).
//
// Put never overwrites. The final write (PutObject or
// CompleteMultipartUpload) carries If-None-Match: *, so the server itself
// refuses it when the key exists, atomically: of concurrent Puts of one
// key exactly one succeeds and the others get KindConflict (412
// PreconditionFailed). While another conditional write of the key is in
// flight AWS may answer 409 ConditionalRequestConflict and ask for a
// retry: Put tries again up to 3 times, 100 ms apart and doubling, then
// reports KindConflict.
// AWS S3 supports this since 2024 and versitygw since 1.8 (under a
// per-key lock). Because a server that ignored the header would overwrite
// silently, Open probes: it writes an object named prefix +
// ".permafrost-probe-<random>" twice with the header, wants the second
// write refused, and deletes it (so Open needs write access). If the
// server refuses or ignores the header, Open fails and says so. The URL's
// conditional-write=false then switches to a HeadObject before the final
// write: enough for keys that are unique by construction, but two
// concurrent Puts of one key can both pass it (the last one wins).
//
// The nonce. Every Put writes a random nonce into the object's metadata
// (x-amz-meta-permafrost-put). When the final write fails, Put looks at
// what the key holds (HeadObject) before deciding: the SDK retries
// requests whose answer was lost (reset connection, timeout, 5xx), and a
// retry of a write that did succeed meets its own object (412, or the
// upload already completed). If the key holds this Put's nonce the Put
// succeeded. If the Put's context ended, the Put fails with the context's
// error and, should the server have completed the write anyway, deletes
// its own object (a server that completes the write after that check
// would leave it: only a crash-safe sweep of unreferenced blobs can close
// that window). Anything else stands: another object holds the key
// (KindConflict), or the server is unavailable.
//
// Open streams one ranged GetObject (Range: bytes=offset-end), never
// reading and discarding: a response whose Content-Range does not start
// at the offset is refused. A range starting at or past the end is 416
// InvalidRange from S3; a HeadObject then tells offset == size (an empty
// reader) from offset > size (KindInvalidParameter). A length of 0 needs
// only the HeadObject. Read errors of the body are classified too (a cut
// connection is KindUnavailable).
//
// Delete is DeleteObject; S3 answers success for a missing key. On a
// versioned bucket it only adds a delete marker and the bytes stay:
// use an unversioned bucket, or expire noncurrent versions.
//
// List pages through ListObjectsV2 under the prefix and reports keys with
// the prefix stripped; objects whose names are not blob keys (the probe,
// objects put by other tools) are skipped.
//
// Errors are classified here, and nothing above sees an SDK error
// unclassified (the SDK's error stays the cause, for logs):
//
//   - NoSuchKey, a 404 → KindNotFound;
//   - NoSuchBucket → KindUnavailable: the store's own bucket is gone, the
//     blob is not missing;
//   - refused, reset or timed-out connections, 5xx, SlowDown and other
//     throttling, 429, RequestTimeout (what the SDK retries) →
//     KindUnavailable, once the SDK's retries (3 attempts, exponential
//     backoff) are spent;
//   - 412 PreconditionFailed, 409 ConditionalRequestConflict →
//     KindConflict;
//   - the context's end → the context's error itself;
//   - anything else (access denied, bad requests) → KindInternal.
//
// Connections are the SDK's: dialing times out after 10s, an answer after
// 2 min; a store recovers by itself when its endpoint comes back (tested by
// stopping and restarting versitygw).
//
// Keys are checked like internal/blob/disk's: segments of [a-z0-9-] joined
// by single '/'. On versitygw's posix backend, as on disk, a key cannot be
// both a blob and the prefix of another ("a" and "a/b"): the second Put
// fails (409 ObjectParentIsFile or ExistingObjectIsDirectory, KindInternal).
package s3
