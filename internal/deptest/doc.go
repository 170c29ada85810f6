// Package deptest holds the project's import rules as a test (STYLE.md
// §8): the domain may not reach for HTTP, SQL or the AWS SDK, and the pure
// cores may not touch the operating system or the network.
package deptest
