package api

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/permafrost/permafrost/internal/glacier"
)

// TestSelectWireStructsMatchModel holds the select shapes to the model,
// by JSON member name (InputSerialization's member is "csv").
func TestSelectWireStructsMatchModel(t *testing.T) {
	m := loadModel(t)
	for _, v := range []any{SelectParameters{}, InputSerialization{}, OutputSerialization{}, CSVInput{}, CSVOutput{},
		OutputLocation{}, S3Location{}, Encryption{}, Grant{}, Grantee{}} {
		typ := reflect.TypeOf(v)
		s, ok := m.Shapes[typ.Name()]
		if !ok {
			t.Errorf("%s: no such shape in the model", typ.Name())
			continue
		}
		body := map[string]bool{}
		for name := range s.Members {
			body[name] = true
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" {
				name = f.Name
			}
			if !body[name] {
				t.Errorf("%s.%s (%q) is not a member of the model shape", typ.Name(), f.Name, name)
			}
			delete(body, name)
		}
		for name := range body {
			t.Errorf("%s lacks the model's member %s", typ.Name(), name)
		}
	}
}

// TestSelectRoundTrip: what InitiateJob decodes, DescribeJob encodes the
// same.
func TestSelectRoundTrip(t *testing.T) {
	in := `{"Type":"select","SelectParameters":{"InputSerialization":{"csv":{"FileHeaderInfo":"USE","Comments":"#","QuoteEscapeCharacter":"\\","RecordDelimiter":"\n","FieldDelimiter":"\t","QuoteCharacter":"'"}},"ExpressionType":"SQL","Expression":"SELECT * FROM ARCHIVE","OutputSerialization":{"csv":{"QuoteFields":"ALWAYS","QuoteEscapeCharacter":"\"","RecordDelimiter":"\r\n","FieldDelimiter":";","QuoteCharacter":"\""}}},` +
		`"OutputLocation":{"S3":{"BucketName":"b","Prefix":"p","Encryption":{"EncryptionType":"aws:kms","KMSKeyId":"k","KMSContext":"c"},"CannedACL":"private","AccessControlList":[{"Grantee":{"Type":"CanonicalUser","DisplayName":"d","ID":"i"},"Permission":"READ"}],"Tagging":{"t":"v"},"UserMetadata":{"m":"n"},"StorageClass":"STANDARD_IA"}}}`
	var p JobParameters
	if err := json.Unmarshal([]byte(in), &p); err != nil {
		t.Fatal(err)
	}
	var req glacier.JobRequest
	if err := decodeSelect(p, &req); err != nil {
		t.Fatal(err)
	}
	j := glacier.Job{ID: "J", Action: glacier.SelectJobAction, Select: &glacier.SelectJob{Parameters: *req.SelectParameters, OutputLocation: *req.OutputLocation}}
	var d GlacierJobDescription
	describeSelect(&d, j)
	var want struct{ SelectParameters, OutputLocation json.RawMessage }
	json.Unmarshal([]byte(in), &want)
	if compact(t, d.SelectParameters) != compact(t, want.SelectParameters) || compact(t, d.OutputLocation) != compact(t, want.OutputLocation) {
		t.Errorf("round trip:\n got %s %s\nwant %s %s", d.SelectParameters, d.OutputLocation, want.SelectParameters, want.OutputLocation)
	}
	if *d.JobOutputPath != "p/J/" {
		t.Errorf("JobOutputPath %q", *d.JobOutputPath)
	}
	for _, bad := range []string{`{"SelectParameters":{"Expression":5}}`, `{"OutputLocation":{"S3":{"Tagging":["x"]}}}`} {
		var p JobParameters
		json.Unmarshal([]byte(bad), &p)
		if err := decodeSelect(p, &req); err == nil {
			t.Errorf("%s decoded", bad)
		}
	}
}

func compact(t *testing.T, m json.RawMessage) string {
	var v any
	if err := json.Unmarshal(m, &v); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
