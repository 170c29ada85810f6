package s3

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// DefaultRegion is the region of a URL without region=.
const DefaultRegion = "us-east-1"

// Config is what an s3:// URL says; ParseURL builds it.
type Config struct {
	// Bucket is the bucket's name (the URL's host).
	Bucket string
	// Prefix is prepended to every blob key: "" or a path ending in "/".
	Prefix string
	// Endpoint is the base URL of an S3-compatible server; "" means AWS.
	Endpoint string
	// Region signs the requests (and, on AWS, locates the bucket).
	Region string
	// StorageClass is sent with every upload; "" leaves it to the bucket
	// (STANDARD on AWS).
	StorageClass string
	// PathStyle addresses the bucket as endpoint/bucket rather than as
	// bucket.endpoint.
	PathStyle bool
	// ConditionalWrite makes Put refuse to overwrite with If-None-Match: *
	// (atomic on the server); false falls back to a HeadObject before the
	// write, which two concurrent Puts of one key can both pass.
	ConditionalWrite bool
	// ObjectLock is object-lock=: "auto" (default: use S3 Object Lock
	// when the bucket has it), "required" (refuse to start without it) or
	// "off"; see objectlock.go.
	ObjectLock string
	// RetentionMode is retention-mode=: COMPLIANCE (default) or GOVERNANCE.
	RetentionMode string
}

// params are the query parameters ParseURL knows.
var params = []string{"endpoint", "region", "storage-class", "path-style", "conditional-write", "object-lock", "retention-mode"}

// archivalClasses are the storage classes whose objects cannot be read
// without a restore request first (see restore.go).
var archivalClasses = []string{"GLACIER", "DEEP_ARCHIVE"}

// ParseURL parses s3://bucket/prefix?endpoint=URL&region=R&storage-class=C&path-style=B&conditional-write=B.
// Everything but the bucket is optional. Errors name what is wrong; they
// never echo credentials put in the URL by mistake.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, fmt.Errorf("s3: invalid URL: %w", err)
	}
	bad := func(format string, args ...any) (Config, error) {
		return Config{}, fmt.Errorf("s3: invalid URL %q: %s", u.Redacted(), fmt.Sprintf(format, args...))
	}
	if u.Scheme != "s3" {
		return bad("the scheme must be s3 (s3://bucket/prefix)")
	}
	if u.Opaque != "" {
		return bad("want s3://bucket/prefix")
	}
	if u.User != nil {
		return Config{}, fmt.Errorf("s3: invalid URL: credentials do not belong in the URL; set PERMAFROST_S3_ACCESS_KEY_ID and PERMAFROST_S3_SECRET_ACCESS_KEY, or PERMAFROST_S3_PROFILE")
	}
	if u.Fragment != "" {
		return bad("a fragment (#...) means nothing here")
	}
	c := Config{
		Bucket:           u.Host,
		Region:           DefaultRegion,
		ConditionalWrite: true,
	}
	if u.Port() != "" {
		return bad("a port belongs to the endpoint (?endpoint=http://host:port), not to the bucket")
	}
	if err := checkBucket(c.Bucket); err != nil {
		return bad("%v", err)
	}
	if c.Prefix, err = parsePrefix(u.Path); err != nil {
		return bad("%v", err)
	}

	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return bad("query: %v", err)
	}
	for name, vals := range q {
		if !slices.Contains(params, name) {
			return bad("unknown parameter %q (known: %s)", name, strings.Join(params, ", "))
		}
		if len(vals) != 1 {
			return bad("parameter %s given %d times", name, len(vals))
		}
	}
	pathStyleSet := false
	for _, name := range params {
		if !q.Has(name) {
			continue
		}
		v := q.Get(name)
		switch name {
		case "endpoint":
			if c.Endpoint, err = parseEndpoint(v); err != nil {
				return bad("endpoint: %v", err)
			}
		case "region":
			if !validRegion(v) {
				return bad("region %q: want letters, digits and dashes, like us-east-1", v)
			}
			c.Region = v
		case "storage-class":
			if c.StorageClass, err = parseStorageClass(v); err != nil {
				return bad("storage-class: %v", err)
			}
		case "path-style":
			if c.PathStyle, err = strconv.ParseBool(v); err != nil {
				return bad("path-style %q: want true or false", v)
			}
			pathStyleSet = true
		case "conditional-write":
			if c.ConditionalWrite, err = strconv.ParseBool(v); err != nil {
				return bad("conditional-write %q: want true or false", v)
			}
		case "object-lock", "retention-mode":
			if err := c.parseObjectLock(name, v); err != nil {
				return bad("%v", err)
			}
		}
	}
	if !pathStyleSet {
		// S3-compatible servers on an address of their own rarely have
		// the wildcard DNS that virtual-hosted addressing needs.
		c.PathStyle = c.Endpoint != ""
	}
	return c, nil
}

// String returns the URL of c (ParseURL(c.String()) == c).
func (c Config) String() string {
	u := url.URL{Scheme: "s3", Host: c.Bucket, Path: "/" + c.Prefix}
	q := url.Values{}
	if c.Endpoint != "" {
		q.Set("endpoint", c.Endpoint)
	}
	if c.Region != DefaultRegion {
		q.Set("region", c.Region)
	}
	if c.StorageClass != "" {
		q.Set("storage-class", c.StorageClass)
	}
	if c.PathStyle != (c.Endpoint != "") {
		q.Set("path-style", strconv.FormatBool(c.PathStyle))
	}
	if !c.ConditionalWrite {
		q.Set("conditional-write", "false")
	}
	c.objectLockQuery(q)
	u.RawQuery = q.Encode()
	return u.String()
}

// checkBucket applies AWS's naming rules for buckets.
func checkBucket(b string) error {
	if b == "" {
		return fmt.Errorf("no bucket: want s3://bucket/prefix")
	}
	if len(b) < 3 || len(b) > 63 {
		return fmt.Errorf("bucket name %q: want 3 to 63 characters", b)
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return fmt.Errorf("bucket name %q: want lower-case letters, digits, '-' and '.'", b)
		}
	}
	if !alnum(b[0]) || !alnum(b[len(b)-1]) {
		return fmt.Errorf("bucket name %q: must begin and end with a letter or digit", b)
	}
	if strings.Contains(b, "..") {
		return fmt.Errorf("bucket name %q: two adjacent periods", b)
	}
	return nil
}

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// parsePrefix turns the URL's path into a key prefix: "" or segments
// ending with "/". Empty, "." and ".." segments are refused: S3 would keep
// them literally while every other tool would not.
func parsePrefix(p string) (string, error) {
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return "", nil
	}
	p = strings.TrimSuffix(p, "/")
	if len(p) > 500 {
		return "", fmt.Errorf("prefix longer than 500 bytes")
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("prefix %q: empty, . or .. segment", p)
		}
		for _, r := range seg {
			if r < 0x20 || r == 0x7f {
				return "", fmt.Errorf("prefix %q: control character", p)
			}
		}
	}
	return p + "/", nil
}

func parseEndpoint(v string) (string, error) {
	e, err := url.Parse(v)
	if err != nil {
		return "", err
	}
	if e.Scheme != "http" && e.Scheme != "https" {
		return "", fmt.Errorf("%q: want http://host[:port] or https://host[:port]", v)
	}
	if e.Host == "" || e.User != nil || e.RawQuery != "" || e.Fragment != "" || (e.Path != "" && e.Path != "/") {
		return "", fmt.Errorf("%q: want only scheme, host and port", v)
	}
	return e.Scheme + "://" + e.Host, nil
}

func validRegion(r string) bool {
	if r == "" || len(r) > 64 {
		return false
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// parseStorageClass accepts any class name (providers have their own).
// The archival ones of AWS (GLACIER, DEEP_ARCHIVE), whose objects need a
// restore before a GET, are accepted too: the store then implements
// glacier.Restorer (restore.go) and retrievals restore what they read.
func parseStorageClass(v string) (string, error) {
	if v == "" {
		return "", fmt.Errorf("empty")
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return "", fmt.Errorf("%q: want a class name like STANDARD or GLACIER_IR", v)
		}
	}
	if slices.Contains(archivalClasses, strings.ToUpper(v)) {
		return strings.ToUpper(v), nil
	}
	return v, nil
}
