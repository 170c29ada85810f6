package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/glacier/types"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/permafrost/permafrost/internal/testenv"
)

// selectBucket is a versitygw bucket select jobs write to, with a client
// that reads their output back.
type selectBucket struct {
	testenv.S3Bucket
	s3 *awss3.Client
}

func newSelectBucket(t *testing.T) selectBucket {
	t.Helper()
	b := testenv.S3(t)
	c := awss3.New(awss3.Options{
		Region:       b.Region,
		BaseEndpoint: aws.String(b.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(b.AccessKey, b.SecretKey, ""),
	})
	return selectBucket{b, c}
}

// selectOutputURL is the --select-output of the bucket's server; the keys
// go in PERMAFROST_SELECT_*.
func (b selectBucket) selectOutputURL(t *testing.T) string {
	t.Setenv("PERMAFROST_SELECT_ACCESS_KEY_ID", b.AccessKey)
	t.Setenv("PERMAFROST_SELECT_SECRET_ACCESS_KEY", b.SecretKey)
	return "s3://?endpoint=" + b.Endpoint + "&region=" + b.Region
}

func (b selectBucket) get(t *testing.T, key string) (string, *awss3.GetObjectOutput) {
	t.Helper()
	out, err := b.s3.GetObject(context.Background(), &awss3.GetObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get s3://%s/%s: %v", b.Name, key, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body), out
}

func (b selectBucket) exists(t *testing.T, key string) bool {
	t.Helper()
	_, err := b.s3.HeadObject(context.Background(), &awss3.HeadObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key)})
	return err == nil
}

func (b selectBucket) list(t *testing.T, prefix string) []string {
	t.Helper()
	var keys []string
	p := awss3.NewListObjectsV2Paginator(b.s3, &awss3.ListObjectsV2Input{Bucket: aws.String(b.Name), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	sort.Strings(keys)
	return keys
}

// results concatenates the result objects a succeeded job's manifest
// lists, in order.
func (b selectBucket) results(t *testing.T, path string) string {
	t.Helper()
	manifest, _ := b.get(t, path+"result_manifest.txt")
	var out strings.Builder
	for _, k := range strings.Fields(manifest) {
		body, _ := b.get(t, k)
		out.WriteString(body)
	}
	if b.exists(t, path+"error_manifest.txt") {
		t.Errorf("%serror_manifest.txt exists for a succeeded job", path)
	}
	return out.String()
}

func selectParams(archiveID, bucket, prefix, sql string, in *types.CSVInput, out *types.CSVOutput) *types.JobParameters {
	p := &types.JobParameters{
		Type:      aws.String("select"),
		ArchiveId: aws.String(archiveID),
		Tier:      aws.String("Expedited"),
		SelectParameters: &types.SelectParameters{
			ExpressionType: types.ExpressionTypeSql,
			Expression:     aws.String(sql),
		},
		OutputLocation: &types.OutputLocation{S3: &types.S3Location{BucketName: aws.String(bucket), Prefix: aws.String(prefix)}},
	}
	if in != nil {
		p.SelectParameters.InputSerialization = &types.InputSerialization{Csv: in}
	}
	if out != nil {
		p.SelectParameters.OutputSerialization = &types.OutputSerialization{Csv: out}
	}
	return p
}

const selectCSV = "id,name,city,amount\n" +
	"1,Alice,Seattle,10.5\n" +
	"2,bob,\"Portland, OR\",3\n" +
	"# not a comment without Comments\n" +
	"3,Carol,\"Say \"\"hi\"\"\",42\n" +
	"4,dan,Boston,7\n"

// TestSelectJob runs select jobs end to end through aws-sdk-go-v2: results
// land in a versitygw bucket with the layout, headers and formats AWS
// documents.
func TestSelectJob(t *testing.T) {
	b := newSelectBucket(t)
	ts := jobServe(t, func(c *Config) { c.JobDelays = "none"; c.SelectOutput = b.selectOutputURL(t) })
	c := ts.client()
	ctx := context.Background()
	mustCreateVault(t, c, "sel")
	archive := jobUpload(t, c, "sel", "people.csv", []byte(selectCSV))
	badArchive := jobUpload(t, c, "sel", "bad.csv", []byte("a,1\nb,2\nc,x\nd,4\n"))

	run := func(t *testing.T, p *types.JobParameters) (string, string) {
		t.Helper()
		out, err := c.InitiateJob(ctx, &glacier.InitiateJobInput{VaultName: aws.String("sel"), JobParameters: p})
		if err != nil {
			t.Fatalf("InitiateJob: %v", err)
		}
		id := aws.ToString(out.JobId)
		path := aws.ToString(p.OutputLocation.S3.Prefix) + "/" + id + "/"
		if got := aws.ToString(out.JobOutputPath); got != path {
			t.Errorf("x-amz-job-output-path %q, want %q", got, path)
		}
		return id, path
	}

	cases := []struct {
		name, sql string
		in        *types.CSVInput
		out       *types.CSVOutput
		want      string
	}{
		{"header names and filter", "SELECT name, city FROM ARCHIVE WHERE CAST(amount AS FLOAT) > 5",
			&types.CSVInput{FileHeaderInfo: types.FileHeaderInfoUse, Comments: aws.String("#")}, nil,
			"Alice,Seattle\nCarol,\"Say \"\"hi\"\"\"\ndan,Boston\n"},
		{"positions, quote always, delimiters", "SELECT s._2, s._1 FROM ARCHIVE s WHERE s._1 IN ('1', '2')",
			&types.CSVInput{FileHeaderInfo: types.FileHeaderInfoIgnore},
			&types.CSVOutput{QuoteFields: types.QuoteFieldsAlways, FieldDelimiter: aws.String("|"), RecordDelimiter: aws.String("\r\n")},
			"\"Alice\"|\"1\"\r\n\"bob\"|\"2\"\r\n"},
		{"string functions", "SELECT UPPER(name), LOWER(name), CHAR_LENGTH(city), SUBSTRING(city, 1, 4), TRIM(BOTH '\"' FROM '\"x\"'), name || '@' || id FROM OBJECT WHERE name LIKE '_o%' OR LOWER(name) = 'dan'",
			&types.CSVInput{FileHeaderInfo: types.FileHeaderInfoUse, Comments: aws.String("#")}, nil,
			"BOB,bob,12,Port,x,bob@2\nDAN,dan,6,Bost,x,dan@4\n"},
		{"no header, star, custom quote out", "SELECT * FROM ARCHIVE WHERE _1 = '2'", nil,
			&types.CSVOutput{QuoteCharacter: aws.String("'"), FieldDelimiter: aws.String(";")},
			"2;bob;Portland, OR;3\n"},
		{"nothing selected", "SELECT * FROM ARCHIVE WHERE _1 = 'nobody'", nil, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, path := run(t, selectParams(archive, b.Name, "out", tc.sql, tc.in, tc.out))
			d := jobWait(t, c, "sel", id, types.StatusCodeSucceeded)
			if d.Action != types.ActionCodeSelect || aws.ToString(d.ArchiveId) != archive || aws.ToString(d.JobOutputPath) != path ||
				d.SelectParameters == nil || aws.ToString(d.SelectParameters.Expression) != tc.sql || aws.ToString(d.Tier) != "Expedited" {
				t.Errorf("DescribeJob: %+v", d)
			}
			if d.OutputLocation == nil || aws.ToString(d.OutputLocation.S3.BucketName) != b.Name || d.ArchiveSizeInBytes != nil || d.RetrievalByteRange != nil {
				t.Errorf("DescribeJob OutputLocation/sizes: %+v", d)
			}
			if got := b.results(t, path); got != tc.want {
				t.Errorf("results %q, want %q", got, tc.want)
			}
			jobTxt, _ := b.get(t, path+"job.txt")
			if !strings.Contains(jobTxt, id) {
				t.Errorf("job.txt %q does not name the job", jobTxt)
			}
			// Select output is in S3, not in GetJobOutput.
			_, _, err := jobGetOutputErr(c, "sel", id, "")
			wantAPIError(t, err, "InvalidParameterValueException", 400)
		})
	}

	t.Run("run-time error goes to errors/", func(t *testing.T) {
		id, path := run(t, selectParams(badArchive, b.Name, "bad", "SELECT _1, CAST(_2 AS INT) + 1 FROM ARCHIVE", nil, nil))
		d := jobWait(t, c, "sel", id, types.StatusCodeFailed)
		if msg := aws.ToString(d.StatusMessage); !strings.Contains(msg, "record 3") || !strings.Contains(msg, "cannot cast 'x' to INT") {
			t.Errorf("StatusMessage %q", msg)
		}
		manifest, _ := b.get(t, path+"error_manifest.txt")
		keys := strings.Fields(manifest)
		if len(keys) != 1 || !strings.HasPrefix(keys[0], path+"errors/") {
			t.Fatalf("error_manifest.txt %q", manifest)
		}
		body, _ := b.get(t, keys[0])
		if !strings.Contains(body, "cannot cast 'x' to INT") {
			t.Errorf("error object %q", body)
		}
		if b.exists(t, path+"result_manifest.txt") {
			t.Error("result_manifest.txt exists for a failed job")
		}
	})

	t.Run("output settings", func(t *testing.T) {
		p := selectParams(archive, b.Name, "tagged/deep", "SELECT id FROM ARCHIVE WHERE id = '1'", &types.CSVInput{FileHeaderInfo: types.FileHeaderInfoUse}, nil)
		p.OutputLocation.S3.StorageClass = types.StorageClassStandard
		p.OutputLocation.S3.Tagging = map[string]string{"team": "data"}
		p.OutputLocation.S3.UserMetadata = map[string]string{"origin": "glacier-select"}
		id, path := run(t, p)
		jobWait(t, c, "sel", id, types.StatusCodeSucceeded)
		manifest, _ := b.get(t, path+"result_manifest.txt")
		key := strings.Fields(manifest)[0]
		body, obj := b.get(t, key)
		if body != "1\n" || obj.Metadata["origin"] != "glacier-select" {
			t.Errorf("result %q metadata %v", body, obj.Metadata)
		}
		tags, err := b.s3.GetObjectTagging(ctx, &awss3.GetObjectTaggingInput{Bucket: aws.String(b.Name), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		if len(tags.TagSet) != 1 || aws.ToString(tags.TagSet[0].Key) != "team" || aws.ToString(tags.TagSet[0].Value) != "data" {
			t.Errorf("tags %+v", tags.TagSet)
		}
	})

	t.Run("encryption and ACLs passed through or dropped", func(t *testing.T) {
		p := selectParams(archive, b.Name, "acl", "SELECT id FROM ARCHIVE WHERE id = '2'", &types.CSVInput{FileHeaderInfo: types.FileHeaderInfoUse}, nil)
		p.OutputLocation.S3.Encryption = &types.Encryption{EncryptionType: types.EncryptionTypeS3}
		p.OutputLocation.S3.CannedACL = types.CannedACLBucketOwnerFullControl
		p.OutputLocation.S3.AccessControlList = []types.Grant{{Grantee: &types.Grantee{Type: types.TypeCanonicalUser, ID: aws.String(b.AccessKey)}, Permission: types.PermissionRead}}
		id, path := run(t, p)
		jobWait(t, c, "sel", id, types.StatusCodeSucceeded)
		if got := b.results(t, path); got != "2\n" {
			t.Errorf("results %q", got)
		}
		d := jobDescribe(t, c, "sel", id)
		if e := d.OutputLocation.S3.Encryption; e == nil || e.EncryptionType != types.EncryptionTypeS3 || len(d.OutputLocation.S3.AccessControlList) != 1 {
			t.Errorf("OutputLocation %+v", d.OutputLocation.S3)
		}
	})

	t.Run("listed", func(t *testing.T) {
		out, err := c.ListJobs(ctx, &glacier.ListJobsInput{VaultName: aws.String("sel")})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, j := range out.JobList {
			if j.Action == types.ActionCodeSelect {
				n++
				if j.SelectParameters == nil || j.OutputLocation == nil || j.JobOutputPath == nil {
					t.Errorf("ListJobs entry %+v lacks the select members", j)
				}
			}
		}
		if n < len(cases) {
			t.Errorf("ListJobs shows %d select jobs", n)
		}
	})

	t.Run("refused at InitiateJob", func(t *testing.T) {
		bad := func(mod func(*types.JobParameters)) error {
			p := selectParams(archive, b.Name, "refused", "SELECT * FROM ARCHIVE", nil, nil)
			mod(p)
			_, err := jobInitiateErr(c, "sel", p)
			return err
		}
		err := bad(func(p *types.JobParameters) {
			p.SelectParameters.Expression = aws.String("SELECT * FROM ARCHIVE LIMIT 10")
		})
		wantAPIError(t, err, "InvalidParameterValueException", 400)
		if !strings.Contains(err.Error(), "LIMIT is not supported") || !strings.Contains(err.Error(), "line 1, column 23") {
			t.Errorf("LIMIT: %v", err)
		}
		for name, mod := range map[string]func(*types.JobParameters){
			"syntax": func(p *types.JobParameters) {
				p.SelectParameters.Expression = aws.String("SELECT _1 FROM ARCHIVE WHERE")
			},
			"aggregate": func(p *types.JobParameters) {
				p.SelectParameters.Expression = aws.String("SELECT COUNT(*) FROM ARCHIVE")
			},
			"storage class": func(p *types.JobParameters) { p.OutputLocation.S3.StorageClass = "GLACIER" },
			"canned acl":    func(p *types.JobParameters) { p.OutputLocation.S3.CannedACL = "everyone" },
			"header info": func(p *types.JobParameters) {
				p.SelectParameters.InputSerialization = &types.InputSerialization{Csv: &types.CSVInput{FileHeaderInfo: "MAYBE"}}
			},
			"delimiter": func(p *types.JobParameters) {
				p.SelectParameters.InputSerialization = &types.InputSerialization{Csv: &types.CSVInput{FieldDelimiter: aws.String(",,")}}
			},
			"range":       func(p *types.JobParameters) { p.RetrievalByteRange = aws.String("0-1048575") },
			"tier":        func(p *types.JobParameters) { p.Tier = aws.String("Fast") },
			"bucket name": func(p *types.JobParameters) { p.OutputLocation.S3.BucketName = aws.String("Bad_Bucket") },
			"long prefix": func(p *types.JobParameters) { p.OutputLocation.S3.Prefix = aws.String(strings.Repeat("p", 513)) },
			"no bucket":   func(p *types.JobParameters) { p.OutputLocation.S3.BucketName = aws.String("no-such-bucket-here") },
		} {
			wantAPIError(t, bad(mod), "InvalidParameterValueException", 400)
			_ = name
		}
		for name, mod := range map[string]func(*types.JobParameters){
			"no output":     func(p *types.JobParameters) { p.OutputLocation = nil },
			"no params":     func(p *types.JobParameters) { p.SelectParameters = nil },
			"no prefix":     func(p *types.JobParameters) { p.OutputLocation.S3.Prefix = nil },
			"no expression": func(p *types.JobParameters) { p.SelectParameters.Expression = nil },
			"no archive":    func(p *types.JobParameters) { p.ArchiveId = nil },
		} {
			err := bad(mod)
			if err == nil {
				t.Errorf("%s: accepted", name)
				continue
			}
			wantAPIError(t, err, "MissingParameterValueException", 400)
		}
		wantAPIError(t, bad(func(p *types.JobParameters) { p.ArchiveId = aws.String("nope") }), "ResourceNotFoundException", 404)
		if keys := b.list(t, "refused/"); len(keys) != 0 {
			t.Errorf("refused jobs wrote %v", keys)
		}
	})
}

// TestSelectJobNotEnabled: without an output store select jobs are
// refused with a message naming the setting.
func TestSelectJobNotEnabled(t *testing.T) {
	ts := jobServe(t, func(c *Config) { c.Meta, c.Blobs, c.JobDelays = "", "", "none" })
	c := ts.client()
	mustCreateVault(t, c, "v")
	id := jobUpload(t, c, "v", "", []byte("a,b\n"))
	_, err := jobInitiateErr(c, "v", selectParams(id, "bucket", "p", "SELECT * FROM ARCHIVE", nil, nil))
	wantAPIError(t, err, "InvalidParameterValueException", 400)
	if !strings.Contains(err.Error(), "--select-output") {
		t.Errorf("message does not name the setting: %v", err)
	}
}

// TestSelectJobBlobStoreDefault: with the archives on S3 and no
// --select-output, select jobs write through the blob store's endpoint and
// credentials.
func TestSelectJobBlobStoreDefault(t *testing.T) {
	out := newSelectBucket(t)
	ts := jobServe(t, func(c *Config) {
		c.Meta, c.Blobs, c.JobDelays = "", testenv.S3URL(t), "none"
	})
	c := ts.client()
	mustCreateVault(t, c, "v")
	id := jobUpload(t, c, "v", "", []byte("x,1\ny,2\n"))
	p := selectParams(id, out.Name, "p", "SELECT _2 FROM ARCHIVE WHERE _1 = 'y'", nil, nil)
	job := ts.jobInitiate(t, c, "v", p)
	jobWait(t, c, "v", job, types.StatusCodeSucceeded)
	if got := out.results(t, "p/"+job+"/"); got != "2\n" {
		t.Errorf("results %q", got)
	}
}

// TestSelectJobTiersRestartNotify: a Standard select job waits for its
// tier's delay, survives a restart, then completes once and notifies its
// topic.
func TestSelectJobTiersRestartNotify(t *testing.T) {
	b := newSelectBucket(t)
	hook := newSelectHook(t)
	topic := "arn:aws:sns:us-east-1:123456789012:select-done"
	set := func(c *Config) {
		c.SelectOutput = b.selectOutputURL(t)
		c.SNSEndpoints = []string{topic + "=" + hook.url}
	}
	ts := jobServeDir(t, t.TempDir(), set)
	ts.AccountID, ts.KeyID, ts.Secret = ts.mustCreateAccount(t, "123456789012") // the topic's own account
	c := ts.client()
	mustCreateVault(t, c, "v")
	archive := jobUpload(t, c, "v", "", []byte("k,v\n1,one\n2,two\n"))
	p := selectParams(archive, b.Name, "tiers", "SELECT v FROM ARCHIVE WHERE k = '2'", &types.CSVInput{FileHeaderInfo: types.FileHeaderInfoUse}, nil)
	p.Tier, p.SNSTopic = aws.String("Standard"), aws.String(topic)
	id := ts.jobInitiate(t, c, "v", p)
	path := "tiers/" + id + "/"
	if !b.exists(t, path+"job.txt") {
		t.Error("job.txt not written at start")
	}
	ts.advance(t, time.Hour)
	time.Sleep(700 * time.Millisecond)
	if d := jobDescribe(t, c, "v", id); d.StatusCode != types.StatusCodeInProgress || b.exists(t, path+"result_manifest.txt") {
		t.Fatalf("Standard job done after 1h: %s", d.StatusCode)
	}
	ts = ts.jobRestart(t, set)
	c = ts.client()
	ts.advance(t, 3*time.Hour)
	d := jobWait(t, c, "v", id, types.StatusCodeSucceeded)
	if got := b.results(t, path); got != "two\n" {
		t.Errorf("results %q", got)
	}
	msg := hook.wait(t)
	if !strings.Contains(msg, id) || !strings.Contains(msg, "Select") || !strings.Contains(msg, "JobOutputPath") {
		t.Errorf("notification %s", msg)
	}
	if d.CompletionDate == nil {
		t.Error("no CompletionDate")
	}
}

// selectHook is an HTTP endpoint receiving notifications.
type selectHook struct {
	url  string
	msgs chan string
}

func newSelectHook(t *testing.T) *selectHook {
	h := &selectHook{msgs: make(chan string, 10)}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.msgs <- string(b)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	h.url = "http://" + ln.Addr().String() + "/hook"
	return h
}

func (h *selectHook) wait(t *testing.T) string {
	t.Helper()
	select {
	case m := <-h.msgs:
		return m
	case <-time.After(jobWaitLimit):
		t.Fatal("no notification")
	}
	return ""
}

// TestSelectJobBoto3 drives a select job from Python's boto3 and reads the
// results back with boto3's S3 client.
func TestSelectJobBoto3(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Fatalf("python3 is required: %v", err)
	}
	if exec.Command("python3", "-c", "import boto3").Run() != nil {
		t.Log("installing boto3 (pip install boto3)")
		if out, err := exec.Command("python3", "-m", "pip", "install", "--quiet", "boto3").CombinedOutput(); err != nil {
			t.Fatalf("boto3 is required and pip install boto3 failed: %v\n%s", err, out)
		}
	}
	b := newSelectBucket(t)
	ts := jobServe(t, func(c *Config) { c.JobDelays = "none"; c.SelectOutput = b.selectOutputURL(t) })
	script := filepath.Join(t.TempDir(), "glacier_select_e2e.py")
	if err := os.WriteFile(script, []byte(boto3Select), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", script)
	// The script gets its keys explicitly; none of the test's AWS_*
	// settings (an empty AWS_PROFILE upsets botocore).
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env,
		"PF_ENDPOINT="+ts.URL(), "PF_KEY="+ts.KeyID, "PF_SECRET="+ts.Secret,
		"S3_ENDPOINT="+b.Endpoint, "S3_KEY="+b.AccessKey, "S3_SECRET="+b.SecretKey, "S3_BUCKET="+b.Name,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3 script: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "OK" {
		t.Fatalf("boto3 script said:\n%s", out)
	}
}

const boto3Select = `
import os, sys, time, boto3, botocore

g = boto3.client("glacier", endpoint_url=os.environ["PF_ENDPOINT"], region_name="us-east-1",
                 aws_access_key_id=os.environ["PF_KEY"], aws_secret_access_key=os.environ["PF_SECRET"])
s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT"], region_name="us-east-1",
                  aws_access_key_id=os.environ["S3_KEY"], aws_secret_access_key=os.environ["S3_SECRET"],
                  config=botocore.config.Config(s3={"addressing_style": "path"}))
bucket = os.environ["S3_BUCKET"]
g.create_vault(vaultName="py")
data = b"sku\tname\tqty\nA1\tWidget, large\t5\nB2\tGadget\t0\nC3\tgizmo\t12\n"
aid = g.upload_archive(vaultName="py", body=data)["archiveId"]

def start(expr, prefix, out=None):
    params = {"Type": "select", "ArchiveId": aid, "Tier": "Expedited",
              "SelectParameters": {"InputSerialization": {"csv": {"FileHeaderInfo": "USE", "FieldDelimiter": "\t"}},
                                   "ExpressionType": "SQL", "Expression": expr,
                                   "OutputSerialization": {"csv": out or {}}},
              "OutputLocation": {"S3": {"BucketName": bucket, "Prefix": prefix}}}
    return g.initiate_job(vaultName="py", jobParameters=params)

def wait(jid):
    for _ in range(400):
        d = g.describe_job(vaultName="py", jobId=jid)
        if d["Completed"]:
            return d
        time.sleep(0.05)
    sys.exit("job did not complete")

r = start("SELECT UPPER(name), CAST(qty AS INT) * 2 FROM ARCHIVE WHERE CAST(qty AS INT) > 0", "py", {"QuoteFields": "ALWAYS"})
path = r["jobOutputPath"]
assert path == "py/" + r["jobId"] + "/", r
d = wait(r["jobId"])
assert d["StatusCode"] == "Succeeded", d
assert d["Action"] == "Select" and d["SelectParameters"]["ExpressionType"] == "SQL", d
assert d["OutputLocation"]["S3"]["BucketName"] == bucket, d
manifest = s3.get_object(Bucket=bucket, Key=path + "result_manifest.txt")["Body"].read().decode()
got = "".join(s3.get_object(Bucket=bucket, Key=k)["Body"].read().decode() for k in manifest.split())
assert got == '"WIDGET, LARGE","10"\n"GIZMO","24"\n', repr(got)
keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=path)["Contents"])
assert path + "job.txt" in keys, keys

try:
    start("SELECT name FROM ARCHIVE LIMIT 1", "py")
    sys.exit("LIMIT accepted")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "InvalidParameterValueException", e.response
    assert "LIMIT" in e.response["Error"]["Message"], e.response

r = start("SELECT CAST(name AS INT) FROM ARCHIVE", "pyerr")
d = wait(r["jobId"])
assert d["StatusCode"] == "Failed" and "cannot cast" in d["StatusMessage"], d
em = s3.get_object(Bucket=bucket, Key=r["jobOutputPath"] + "error_manifest.txt")["Body"].read().decode()
assert "errors/" in em, em
print("OK")
`

// TestSelectJobLargeArchive selects from a 65 MiB CSV archive (200 MiB
// without -short) and checks the results and that the heap stays flat:
// the archive is streamed, not loaded.
func TestSelectJobLargeArchive(t *testing.T) {
	rows := 1_000_000 // 65 MiB
	if !testing.Short() {
		rows = 3_000_000
	}
	b := newSelectBucket(t)
	ts := jobServe(t, func(c *Config) { c.JobDelays = "none"; c.SelectOutput = b.selectOutputURL(t) })
	c := ts.client()
	mustCreateVault(t, c, "big")

	data := make([]byte, 0, rows*72)
	for i := range rows {
		data = fmt.Appendf(data, "%08d,item-%08d,%d,\"note, with comma %d\",%s\n", i, i, i%1000, i%7, "zzzzzzzzzzzzzzzzzzzz")
	}
	t.Logf("archive of %d MiB", len(data)>>20)
	archive := jobUploadMultipart(t, c, "big", "big.csv", data, 16<<20)
	size := len(data)
	data = nil

	runtime.GC()
	base := heapInUse()
	sampler := startLiveHeapSampler(50 * time.Millisecond)
	start := time.Now()
	p := selectParams(archive, b.Name, "big", "SELECT _1, UPPER(_2) FROM ARCHIVE WHERE CAST(_3 AS INT) = 999 OR _1 LIKE '%0000000'", nil, nil)
	id := ts.jobInitiate(t, c, "big", p)
	deadline := time.Now().Add(5 * time.Minute)
	for jobDescribe(t, c, "big", id).StatusCode == types.StatusCodeInProgress {
		if time.Now().After(deadline) {
			t.Fatal("select job still running after 5 minutes")
		}
		time.Sleep(200 * time.Millisecond)
	}
	peak, samples := sampler.stop()
	d := jobDescribe(t, c, "big", id)
	if d.StatusCode != types.StatusCodeSucceeded {
		t.Fatalf("job %s: %s", d.StatusCode, aws.ToString(d.StatusMessage))
	}
	t.Logf("selected from %d MiB in %v; heap peak %.1f MiB above baseline (%d samples)", size>>20, time.Since(start).Round(time.Millisecond), float64(int64(peak)-int64(base))/(1<<20), samples)
	if growth := int64(peak) - int64(base); growth > 64<<20 {
		t.Errorf("heap grew by %.1f MiB while selecting from a %d MiB archive: the archive is being buffered", float64(growth)/(1<<20), size>>20)
	}
	var want strings.Builder
	for i := range rows {
		if i%1000 == 999 || i%10000000 == 0 {
			want.WriteString(fmt.Sprintf("%08d,ITEM-%08d\n", i, i))
		}
	}
	if got := b.results(t, "big/"+id+"/"); got != want.String() {
		t.Errorf("results: %d bytes, want %d", len(got), want.Len())
	}
}

// TestSelectJobResumesAfterShutdown stops the server while a select job is
// running; the restarted server runs the job again from the start and
// completes it, with the same results.
func TestSelectJobResumesAfterShutdown(t *testing.T) {
	b := newSelectBucket(t)
	set := func(c *Config) { c.JobDelays = "none"; c.SelectOutput = b.selectOutputURL(t) }
	ts := jobServe(t, set)
	c := ts.client()
	mustCreateVault(t, c, "v")
	var data strings.Builder
	for i := range 1_500_000 {
		fmt.Fprintf(&data, "%d,row %d\n", i, i)
	}
	archive := jobUploadMultipart(t, c, "v", "", []byte(data.String()), 4<<20)
	p := selectParams(archive, b.Name, "resume", "SELECT _2 FROM ARCHIVE WHERE CAST(_1 AS INT) % 300000 = 7", nil, nil)
	id := ts.jobInitiate(t, c, "v", p)
	time.Sleep(300 * time.Millisecond) // the scheduler has started the job
	stopped := time.Now()
	ts = ts.jobRestart(t, set)
	t.Logf("stopped and restarted in %v", time.Since(stopped).Round(time.Millisecond))
	c = ts.client()
	jobWait(t, c, "v", id, types.StatusCodeSucceeded)
	if got := b.results(t, "resume/"+id+"/"); got != "row 7\nrow 300007\nrow 600007\nrow 900007\nrow 1200007\n" {
		t.Errorf("results %q", got)
	}
}

// TestSelectJobRetrievalControls: select jobs pass the same admission as
// archive retrievals: the data retrieval policy counts the archive's bytes
// for Standard jobs, and Expedited jobs need capacity.
func TestSelectJobRetrievalControls(t *testing.T) {
	b := newSelectBucket(t)
	ts := jobServe(t, func(c *Config) { c.ExpeditedSharedPool = 1; c.SelectOutput = b.selectOutputURL(t) })
	c := ts.client()
	mustCreateVault(t, c, "v")
	archive := jobUpload(t, c, "v", "", []byte(strings.Repeat("x,y\n", 1000)))
	sel := func(tier string) *types.JobParameters {
		p := selectParams(archive, b.Name, "ctl", "SELECT * FROM ARCHIVE", nil, nil)
		p.Tier = aws.String(tier)
		return p
	}
	// One Expedited job per 5 minutes from the shared pool, select or not.
	ts.jobInitiate(t, c, "v", sel("Expedited"))
	_, err := jobInitiateErr(c, "v", sel("Expedited"))
	wantAPIError(t, err, "InsufficientCapacityException", 503)
	_, err = jobInitiateErr(c, "v", jobArchiveParams(archive, "Expedited", ""))
	wantAPIError(t, err, "InsufficientCapacityException", 503)

	// 4000 bytes in flight over 4 hours is more than 100 bytes an hour.
	retrMustSet(t, c, types.DataRetrievalRule{Strategy: aws.String("BytesPerHour"), BytesPerHour: aws.Int64(100)})
	_, err = jobInitiateErr(c, "v", sel("Standard"))
	wantAPIError(t, err, "PolicyEnforcedException", 400)
	retrMustSet(t, c, types.DataRetrievalRule{Strategy: aws.String("BytesPerHour"), BytesPerHour: aws.Int64(1500)})
	ts.jobInitiate(t, c, "v", sel("Standard"))
	// Now 4000 bytes are in flight: an archive job of the same size is over.
	_, err = jobInitiateErr(c, "v", jobArchiveParams(archive, "Standard", ""))
	wantAPIError(t, err, "PolicyEnforcedException", 400)
	ts.jobInitiate(t, c, "v", sel("Bulk"))
}

// TestSelectJobGoneAtRunTime: a select job whose archive is deleted, or
// whose bucket is removed, before it runs fails with a message instead of
// retrying for ever; with a bucket, the error report is written.
func TestSelectJobGoneAtRunTime(t *testing.T) {
	b := newSelectBucket(t)
	ctx := context.Background()
	// A bucket of the test's own, deleted while the job waits.
	gone := b
	gone.Name = fmt.Sprintf("pf-select-gone-%x", randomBytes(4))
	if _, err := b.s3.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(gone.Name)}); err != nil {
		t.Fatal(err)
	}
	ts := jobServe(t, func(c *Config) { c.SelectOutput = b.selectOutputURL(t) })
	c := ts.client()
	mustCreateVault(t, c, "v")
	a1 := jobUpload(t, c, "v", "", []byte("1,a\n"))
	a2 := jobUpload(t, c, "v", "", []byte("2,b\n"))
	p1 := selectParams(a1, b.Name, "gone", "SELECT * FROM ARCHIVE", nil, nil)
	p1.Tier = aws.String("Bulk")
	j1 := ts.jobInitiate(t, c, "v", p1)
	p2 := selectParams(a2, gone.Name, "gone", "SELECT * FROM ARCHIVE", nil, nil)
	p2.Tier = aws.String("Bulk")
	j2 := ts.jobInitiate(t, c, "v", p2)

	if _, err := c.DeleteArchive(ctx, &glacier.DeleteArchiveInput{VaultName: aws.String("v"), ArchiveId: aws.String(a1)}); err != nil {
		t.Fatal(err)
	}
	for _, k := range gone.list(t, "") {
		if _, err := gone.s3.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(gone.Name), Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := gone.s3.DeleteBucket(ctx, &awss3.DeleteBucketInput{Bucket: aws.String(gone.Name)}); err != nil {
		t.Fatal(err)
	}
	ts.advance(t, 6*time.Hour)

	d := jobWait(t, c, "v", j1, types.StatusCodeFailed)
	if !strings.Contains(aws.ToString(d.StatusMessage), "archive was deleted") {
		t.Errorf("StatusMessage %q", aws.ToString(d.StatusMessage))
	}
	if m, _ := b.get(t, "gone/"+j1+"/error_manifest.txt"); !strings.Contains(m, "gone/"+j1+"/errors/") {
		t.Errorf("error manifest %q", m)
	}
	d = jobWait(t, c, "v", j2, types.StatusCodeFailed)
	if msg := aws.ToString(d.StatusMessage); !strings.Contains(msg, "does not exist") || !strings.Contains(msg, gone.Name) {
		t.Errorf("StatusMessage %q", msg)
	}
}

// TestSelectJobLeaseTakeover: a node that claimed a select job and died
// (simulated by a claim written straight to the store) holds it until its
// lease ends; then another scheduler takes the job over and completes it.
func TestSelectJobLeaseTakeover(t *testing.T) {
	b := newSelectBucket(t)
	ts := jobServe(t, func(c *Config) { c.SelectOutput = b.selectOutputURL(t) })
	c := ts.client()
	ctx := context.Background()
	mustCreateVault(t, c, "v")
	archive := jobUpload(t, c, "v", "", []byte("1,a\n2,b\n"))
	p := selectParams(archive, b.Name, "lease", "SELECT _2 FROM ARCHIVE WHERE _1 = '2'", nil, nil)
	p.Tier = aws.String("Bulk")
	id := ts.jobInitiate(t, c, "v", p)
	j, err := ts.stores.meta.Roles().Jobs.GetJob(ctx, ts.AccountID, "v", id)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := ts.stores.meta.Roles().Jobs.ClaimJob(ctx, id, j.DueAt, j.DueAt.Add(2*time.Minute)); err != nil || !ok {
		t.Fatalf("ClaimJob: %v %v", ok, err)
	}
	ts.advance(t, 5*time.Hour+time.Minute) // due, but leased by the "dead" node
	time.Sleep(time.Second)
	if d := jobDescribe(t, c, "v", id); d.StatusCode != types.StatusCodeInProgress {
		t.Fatalf("leased job ran: %s", d.StatusCode)
	}
	ts.advance(t, 2*time.Minute)
	jobWait(t, c, "v", id, types.StatusCodeSucceeded)
	if got := b.results(t, "lease/"+id+"/"); got != "b\n" {
		t.Errorf("results %q", got)
	}
}
