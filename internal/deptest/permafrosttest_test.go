package deptest

import "testing"

// permafrosttest is imported by other modules' tests: it must not pull
// in the AWS SDK, test helpers or the PostgreSQL driver, only what the
// embedded server needs.
func TestPermafrosttestAddsNoTestOnlyDependency(t *testing.T) {
	banned(t, "permafrosttest", "github.com/aws", "github.com/google/go-cmp", "github.com/jackc",
		module+"internal/testenv", module+"internal/meta/postgres", module+"internal/blob/s3")
}
