package api

import (
	"encoding/json"

	"github.com/permafrost/permafrost/internal/glacier"
)

// decodeSelect reads InitiateJob's SelectParameters and OutputLocation
// (kept raw by JobParameters) into the domain's shapes.
func decodeSelect(in JobParameters, req *glacier.JobRequest) error {
	if present(in.SelectParameters) {
		req.SelectParameters = new(glacier.SelectParameters)
		if err := json.Unmarshal(in.SelectParameters, req.SelectParameters); err != nil {
			return errSerialization("SelectParameters is not valid: " + err.Error())
		}
	}
	if present(in.OutputLocation) {
		req.OutputLocation = new(glacier.OutputLocation)
		if err := json.Unmarshal(in.OutputLocation, req.OutputLocation); err != nil {
			return errSerialization("OutputLocation is not valid: " + err.Error())
		}
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
	if d.SelectParameters, err = json.Marshal(j.Select.Parameters); err != nil {
		panic(err) // plain structs always marshal
	}
	if d.OutputLocation, err = json.Marshal(j.Select.OutputLocation); err != nil {
		panic(err)
	}
}
