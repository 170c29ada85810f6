// Package testenv starts the real engines that integration tests need —
// a PostgreSQL server and an S3-compatible server (versitygw) — installing
// them first when they are missing, and fails the test loudly when that is
// impossible. Tests never skip for want of an engine: CI must run them.
//
// Engines are started once per test binary and shared; each test gets its
// own database or bucket, so tests stay independent.
package testenv
