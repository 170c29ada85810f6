package notify

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseEndpoints(t *testing.T) {
	file := strings.Join([]string{
		"# topic → endpoint",
		"",
		"arn:aws:sns:us-east-1:111122223333:jobs https://hooks.example.com/glacier?x=1",
		"  arn:aws:sns:eu-west-1:444455556666:tab\thttp://10.0.0.5:8080/sns  ",
		"arn:aws:sns:ap-southeast-2:777788889999:eq=http://localhost/a=b\r",
		"arn:aws-us-gov:sns:us-gov-west-1:111122223333:orders.fifo = https://x.example/",
		"arn:aws:sns:us-east-1:111122223333:flagged https://flag.example/", // same as the flag: fine
	}, "\n")
	got, err := ParseEndpoints([]string{
		"arn:aws:sns:us-east-1:111122223333:flagged=https://flag.example/",
		"arn:aws:sns:us-west-2:111122223333:two=http://u:p@h.example/x",
	}, strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"arn:aws:sns:us-east-1:111122223333:jobs":                   "https://hooks.example.com/glacier?x=1",
		"arn:aws:sns:eu-west-1:444455556666:tab":                    "http://10.0.0.5:8080/sns",
		"arn:aws:sns:ap-southeast-2:777788889999:eq":                "http://localhost/a=b",
		"arn:aws-us-gov:sns:us-gov-west-1:111122223333:orders.fifo": "https://x.example/",
		"arn:aws:sns:us-east-1:111122223333:flagged":                "https://flag.example/",
		"arn:aws:sns:us-west-2:111122223333:two":                    "http://u:p@h.example/x",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseEndpoints (-want +got):\n%s", diff)
	}

	if got, err := ParseEndpoints(nil, nil); err != nil || len(got) != 0 {
		t.Errorf("ParseEndpoints(nil, nil) = %v, %v; want empty map", got, err)
	}
}

func TestParseEndpointsErrors(t *testing.T) {
	const arn = "arn:aws:sns:us-east-1:111122223333:jobs"
	for _, tc := range []struct {
		name  string
		flags []string
		file  string
		want  string // in the error message
	}{
		{"flag without =", []string{arn + " https://x/"}, "", "want ARN=URL"},
		{"not sns", []string{"arn:aws:sqs:us-east-1:111122223333:q=https://x/"}, "", `invalid topic ARN "arn:aws:sqs`},
		{"short account", []string{"arn:aws:sns:us-east-1:11112222333:t=https://x/"}, "", "12-digit account"},
		{"no topic name", []string{"arn:aws:sns:us-east-1:111122223333:=https://x/"}, "", "invalid topic ARN"},
		{"bad topic name", []string{"arn:aws:sns:us-east-1:111122223333:a/b=https://x/"}, "", "invalid topic ARN"},
		{"ftp", []string{arn + "=ftp://x/"}, "", "scheme must be http or https"},
		{"relative", []string{arn + "=/hook"}, "", "scheme must be http or https"},
		{"no host", []string{arn + "=http:///hook"}, "", "missing host"},
		{"empty url", []string{arn + "="}, "", "missing URL"},
		{"unparsable url", []string{arn + "=http://[::1"}, "", "invalid URL"},
		{"conflict", []string{arn + "=https://a/"}, arn + " https://b/\n", "topics file line 1: topic " + arn + " already mapped to https://a/ by --sns-endpoint"},
		{"file line alone", nil, "# c\n\n" + arn + "\n", `topics file line 3: want "ARN URL" or "ARN=URL"`},
		{"file extra words", nil, arn + " https://a/ https://b/\n", "topics file line 1: topic " + arn + `: URL "https://a/ https://b/" contains blanks`},
		{"file bad arn", nil, "\n\nnot-an-arn https://a/\n", `topics file line 3: invalid topic ARN "not-an-arn"`},
		{"password hidden", []string{arn + "=ftp://u:secret@x/"}, "", "ftp://u:xxxxx@x/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseEndpoints(tc.flags, strings.NewReader(tc.file))
			if err == nil {
				t.Fatalf("no error, want one containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q leaks a password", err)
			}
		})
	}
}

func TestParseTopicsAllow(t *testing.T) {
	const arn = "arn:aws:sns:us-east-1:111122223333:shared"
	file := arn + " https://hooks.example/a allow=444455556666,777788889999\n" +
		arn + "=https://hooks.example/a allow=444455556666\n" +
		"arn:aws:sns:us-east-1:111122223333:own https://hooks.example/b\n"
	got, err := ParseTopics(nil, strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string][]string{arn: {"444455556666", "777788889999"}}; !cmp.Equal(want, got.Accounts) {
		t.Errorf("Accounts = %v, want %v", got.Accounts, want)
	}
	if got.Endpoints[arn] != "https://hooks.example/a" || got.Endpoints["arn:aws:sns:us-east-1:111122223333:own"] != "https://hooks.example/b" {
		t.Errorf("Endpoints = %v", got.Endpoints)
	}
	for _, bad := range []string{arn + " https://a/ allow=", arn + " https://a/ allow=12345", arn + " https://a/ allow=444455556666,x"} {
		if _, err := ParseTopics(nil, strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "12-digit account ids") {
			t.Errorf("%q: %v, want an error about account ids", bad, err)
		}
	}
}
