package main

import (
	"context"
	"fmt"
	"os"

	"github.com/permafrost/permafrost/internal/api"
	"github.com/permafrost/permafrost/internal/blob/s3"
	"github.com/permafrost/permafrost/internal/glacier"
	"github.com/permafrost/permafrost/internal/selectout"
)

// openSelectOutput returns where select jobs write: the --select-output
// endpoint, else the endpoint of the blob store when the blobs are on S3,
// else nil (select jobs are refused).
func (m *Main) openSelectOutput(ctx context.Context) (glacier.SelectOutput, error) {
	var c selectout.Config
	switch blobs, onS3 := m.stores.baseBlobs().(*s3.Store); {
	case m.Config.SelectOutput != "":
		var err error
		if c, err = selectout.ParseURL(m.Config.SelectOutput); err != nil {
			return nil, usageError{fmt.Sprintf("--select-output: %v", err)}
		}
	case onS3:
		bc := blobs.Config()
		c = selectout.Config{Endpoint: bc.Endpoint, Region: bc.Region, PathStyle: bc.PathStyle,
			AccessKeyID: os.Getenv(selectout.EnvAccessKeyID), SecretAccessKey: os.Getenv(selectout.EnvSecretAccessKey),
			SessionToken: os.Getenv(selectout.EnvSessionToken)}
	default:
		return nil, nil
	}
	w, err := selectout.New(ctx, c, m.logger)
	if err != nil {
		return nil, err
	}
	w.DescribeJob = api.JobMessage(m.service) // job.txt: the DescribeJob JSON
	where := c.Endpoint
	if where == "" {
		where = "AWS S3 " + c.Region
	}
	m.logger.Info("select jobs enabled", "output_endpoint", where, "static_credentials", c.AccessKeyID != "")
	return w, nil
}

// validateSelectOutput checks --select-output before anything is opened.
func validateSelectOutput(v string) error {
	if v == "" {
		return nil
	}
	if _, err := selectout.ParseURL(v); err != nil {
		return usageError{fmt.Sprintf("--select-output: %v", err)}
	}
	return nil
}
