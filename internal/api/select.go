package api

import (
	"encoding/json"

	"github.com/permafrost/permafrost/internal/glacier"
)

// The select shapes of the model (SelectParameters, OutputLocation and
// what they hold), as InitiateJob receives them and DescribeJob returns
// them. The domain has its own types; these map to and from them.

type SelectParameters struct {
	InputSerialization  *InputSerialization  `json:",omitempty"`
	ExpressionType      string               `json:",omitempty"`
	Expression          string               `json:",omitempty"`
	OutputSerialization *OutputSerialization `json:",omitempty"`
}

type InputSerialization struct {
	CSV *CSVInput `json:"csv,omitempty"`
}

type OutputSerialization struct {
	CSV *CSVOutput `json:"csv,omitempty"`
}

type CSVInput struct {
	FileHeaderInfo       string `json:",omitempty"`
	Comments             string `json:",omitempty"`
	QuoteEscapeCharacter string `json:",omitempty"`
	RecordDelimiter      string `json:",omitempty"`
	FieldDelimiter       string `json:",omitempty"`
	QuoteCharacter       string `json:",omitempty"`
}

type CSVOutput struct {
	QuoteFields          string `json:",omitempty"`
	QuoteEscapeCharacter string `json:",omitempty"`
	RecordDelimiter      string `json:",omitempty"`
	FieldDelimiter       string `json:",omitempty"`
	QuoteCharacter       string `json:",omitempty"`
}

type OutputLocation struct {
	S3 *S3Location `json:",omitempty"`
}

type S3Location struct {
	BucketName        string            `json:",omitempty"`
	Prefix            string            `json:",omitempty"`
	Encryption        *Encryption       `json:",omitempty"`
	CannedACL         string            `json:",omitempty"`
	AccessControlList []Grant           `json:",omitempty"`
	Tagging           map[string]string `json:",omitempty"`
	UserMetadata      map[string]string `json:",omitempty"`
	StorageClass      string            `json:",omitempty"`
}

type Encryption struct {
	EncryptionType string `json:",omitempty"`
	KMSKeyId       string `json:",omitempty"`
	KMSContext     string `json:",omitempty"`
}

type Grant struct {
	Grantee    *Grantee `json:",omitempty"`
	Permission string   `json:",omitempty"`
}

type Grantee struct {
	Type         string `json:",omitempty"`
	DisplayName  string `json:",omitempty"`
	URI          string `json:",omitempty"`
	ID           string `json:",omitempty"`
	EmailAddress string `json:",omitempty"`
}

// decodeSelect reads InitiateJob's SelectParameters and OutputLocation
// (kept raw by JobParameters) into the request.
func decodeSelect(in JobParameters, req *glacier.JobRequest) error {
	if present(in.SelectParameters) {
		var p SelectParameters
		if err := json.Unmarshal(in.SelectParameters, &p); err != nil {
			return errSerialization("SelectParameters is not valid: " + err.Error())
		}
		req.SelectParameters = p.domain()
	}
	if present(in.OutputLocation) {
		var o OutputLocation
		if err := json.Unmarshal(in.OutputLocation, &o); err != nil {
			return errSerialization("OutputLocation is not valid: " + err.Error())
		}
		req.OutputLocation = o.domain()
	}
	return nil
}

// describeSelect fills the select members of a job description
// (data-plane.md §5.4): ArchiveId, Tier, JobOutputPath, SelectParameters
// and OutputLocation; no sizes, hashes or range.
func describeSelect(d *GlacierJobDescription, j glacier.Job) {
	d.ArchiveId = &j.ArchiveID
	d.Tier = optString(j.Tier)
	if j.Select == nil {
		return
	}
	d.JobOutputPath = optString(j.OutputPath())
	var err error
	if d.SelectParameters, err = json.Marshal(wireSelectParameters(j.Select.Parameters)); err != nil {
		panic(err) // plain structs always marshal
	}
	if d.OutputLocation, err = json.Marshal(wireOutputLocation(j.Select.OutputLocation)); err != nil {
		panic(err)
	}
}

func (p SelectParameters) domain() *glacier.SelectParameters {
	d := &glacier.SelectParameters{ExpressionType: p.ExpressionType, Expression: p.Expression}
	if p.InputSerialization != nil {
		d.InputSerialization = &glacier.InputSerialization{}
		if c := p.InputSerialization.CSV; c != nil {
			d.InputSerialization.CSV = &glacier.CSVInput{FileHeaderInfo: c.FileHeaderInfo, Comments: c.Comments,
				QuoteEscapeCharacter: c.QuoteEscapeCharacter, RecordDelimiter: c.RecordDelimiter,
				FieldDelimiter: c.FieldDelimiter, QuoteCharacter: c.QuoteCharacter}
		}
	}
	if p.OutputSerialization != nil {
		d.OutputSerialization = &glacier.OutputSerialization{}
		if c := p.OutputSerialization.CSV; c != nil {
			d.OutputSerialization.CSV = &glacier.CSVOutput{QuoteFields: c.QuoteFields,
				QuoteEscapeCharacter: c.QuoteEscapeCharacter, RecordDelimiter: c.RecordDelimiter,
				FieldDelimiter: c.FieldDelimiter, QuoteCharacter: c.QuoteCharacter}
		}
	}
	return d
}

func wireSelectParameters(d glacier.SelectParameters) SelectParameters {
	p := SelectParameters{ExpressionType: d.ExpressionType, Expression: d.Expression}
	if d.InputSerialization != nil {
		p.InputSerialization = &InputSerialization{}
		if c := d.InputSerialization.CSV; c != nil {
			p.InputSerialization.CSV = &CSVInput{FileHeaderInfo: c.FileHeaderInfo, Comments: c.Comments,
				QuoteEscapeCharacter: c.QuoteEscapeCharacter, RecordDelimiter: c.RecordDelimiter,
				FieldDelimiter: c.FieldDelimiter, QuoteCharacter: c.QuoteCharacter}
		}
	}
	if d.OutputSerialization != nil {
		p.OutputSerialization = &OutputSerialization{}
		if c := d.OutputSerialization.CSV; c != nil {
			p.OutputSerialization.CSV = &CSVOutput{QuoteFields: c.QuoteFields,
				QuoteEscapeCharacter: c.QuoteEscapeCharacter, RecordDelimiter: c.RecordDelimiter,
				FieldDelimiter: c.FieldDelimiter, QuoteCharacter: c.QuoteCharacter}
		}
	}
	return p
}

func (o OutputLocation) domain() *glacier.OutputLocation {
	d := &glacier.OutputLocation{}
	s := o.S3
	if s == nil {
		return d
	}
	d.S3 = &glacier.S3Location{BucketName: s.BucketName, Prefix: s.Prefix, CannedACL: s.CannedACL,
		Tagging: s.Tagging, UserMetadata: s.UserMetadata, StorageClass: s.StorageClass}
	if e := s.Encryption; e != nil {
		d.S3.Encryption = &glacier.Encryption{EncryptionType: e.EncryptionType, KMSKeyId: e.KMSKeyId, KMSContext: e.KMSContext}
	}
	for _, g := range s.AccessControlList {
		dg := glacier.Grant{Permission: g.Permission}
		if w := g.Grantee; w != nil {
			dg.Grantee = &glacier.Grantee{Type: w.Type, DisplayName: w.DisplayName, URI: w.URI, ID: w.ID, EmailAddress: w.EmailAddress}
		}
		d.S3.AccessControlList = append(d.S3.AccessControlList, dg)
	}
	return d
}

func wireOutputLocation(d glacier.OutputLocation) OutputLocation {
	var o OutputLocation
	s := d.S3
	if s == nil {
		return o
	}
	o.S3 = &S3Location{BucketName: s.BucketName, Prefix: s.Prefix, CannedACL: s.CannedACL,
		Tagging: s.Tagging, UserMetadata: s.UserMetadata, StorageClass: s.StorageClass}
	if e := s.Encryption; e != nil {
		o.S3.Encryption = &Encryption{EncryptionType: e.EncryptionType, KMSKeyId: e.KMSKeyId, KMSContext: e.KMSContext}
	}
	for _, g := range s.AccessControlList {
		wg := Grant{Permission: g.Permission}
		if w := g.Grantee; w != nil {
			wg.Grantee = &Grantee{Type: w.Type, DisplayName: w.DisplayName, URI: w.URI, ID: w.ID, EmailAddress: w.EmailAddress}
		}
		o.S3.AccessControlList = append(o.S3.AccessControlList, wg)
	}
	return o
}
