package main

import (
	"io"
	"log/slog"

	"github.com/permafrost/permafrost/internal/clock"
	"github.com/permafrost/permafrost/internal/glacier"
)

// operatorService returns the service through which an operator command
// runs its use cases on the stores it opened, on the real clock, logging
// nowhere.
func operatorService(st *stores) *glacier.Service {
	return &glacier.Service{Stores: st.serviceStores(false), Blobs: st.serviceBlobs(), Clock: clock.Real{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}
