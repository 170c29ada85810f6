package api

import (
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/permafrost/permafrost/internal/glacier"
)

// Wire structs carry the botocore shape names so each field can be checked
// against glacier-2012-06-01.service-2.json.

// DescribeVaultOutput is also the element of ListVaultsOutput.VaultList.
type DescribeVaultOutput struct {
	VaultARN          string
	VaultName         string
	CreationDate      string
	LastInventoryDate *string
	NumberOfArchives  int64
	SizeInBytes       int64
}

type ListVaultsOutput struct {
	VaultList []DescribeVaultOutput
	Marker    *string
}

type ListTagsForVaultOutput struct {
	Tags map[string]string
}

type AddTagsToVaultInput struct {
	Tags map[string]string
}

type RemoveTagsFromVaultInput struct {
	TagKeys []string
}

type VaultNotificationConfig struct {
	SNSTopic string
	Events   []string
}

type PartListElement struct {
	RangeInBytes   string
	SHA256TreeHash string
}

type ListPartsOutput struct {
	MultipartUploadId  string
	VaultARN           string
	ArchiveDescription *string
	PartSizeInBytes    int64
	CreationDate       string
	Parts              []PartListElement
	Marker             *string
}

type UploadListElement struct {
	MultipartUploadId  string
	VaultARN           string
	ArchiveDescription *string
	PartSizeInBytes    int64
	CreationDate       string
}

type ListMultipartUploadsOutput struct {
	UploadsList []UploadListElement
	Marker      *string
}

// errorBody is the Glacier error envelope (operations.md §2.1).
type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Type    string `json:"type"`
}

// timeFormat is ISO-8601 UTC with milliseconds, as Glacier emits it.
const timeFormat = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// optTime is null for the zero time.
func optTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := formatTime(t)
	return &s
}

// optString is null for "".
func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// vaultOutput is a vault as DescribeVault and ListVaults answer it;
// appendVault writes its JSON without building it (TestVaultJSONFromDomain).
func (s *Server) vaultOutput(v glacier.Vault) DescribeVaultOutput {
	return DescribeVaultOutput{
		VaultARN:          s.Service.VaultARN(v.AccountID, v.Name),
		VaultName:         v.Name,
		CreationDate:      formatTime(v.CreatedAt),
		LastInventoryDate: optTime(v.LastInventoryAt),
		NumberOfArchives:  v.NumberOfArchives,
		SizeInBytes:       v.SizeInBytes + v.NumberOfArchives*glacier.PerArchiveOverhead,
	}
}

// writeJSON writes v as the 200-or-other JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // wire structs always marshal
	}
	writeJSONBytes(w, status, b)
}

// writeEmpty answers with no body.
func writeEmpty(w http.ResponseWriter, status int) {
	w.Header()["Content-Length"] = []string{"0"}
	w.WriteHeader(status)
}

// maxJSONBody bounds JSON request bodies; the largest legitimate one is a
// 20 KB policy wrapped in JSON.
const maxJSONBody = 1 << 20

// decodeJSON reads a JSON request body into v. An empty body is reported
// as missing, malformed JSON as a SerializationException. Unknown members
// are ignored (operations.md §1.2).
func decodeJSON(r *http.Request, v any, what string) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody+1))
	if err != nil {
		return glacier.Wrap(glacier.KindRequestTimeout, err, "The request body was not received in full")
	}
	if len(b) > maxJSONBody {
		return glacier.Errorf(glacier.KindInvalidParameter, "The request body is larger than %d bytes", maxJSONBody)
	}
	if len(b) == 0 {
		return glacier.Errorf(glacier.KindMissingParameter, "Required parameter missing: %s", what)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errSerialization("The request body is not valid JSON: " + err.Error())
	}
	return nil
}
