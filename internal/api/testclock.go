package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/permafrost/permafrost/internal/clock"
)

// maxAdvanceSeconds bounds one advance_seconds: 100 years of 365 days.
const maxAdvanceSeconds = 3_153_600_000

// TestClock is the movable server clock behind /_permafrost/v1/clock
// (internal/clock.Stored): Read returns its time and how far it runs ahead
// of real time; Advance moves it forward by d (never back, the offset never
// past clock.MaxOffset), keeps the new offset and returns the new time and
// offset — an error means the move may not survive a restart.
type TestClock interface {
	Read(ctx context.Context) (now time.Time, offset time.Duration)
	Advance(ctx context.Context, d time.Duration) (now time.Time, offset time.Duration, err error)
}

// clockRequest is the body of POST /_permafrost/v1/clock.
type clockRequest struct {
	AdvanceSeconds *float64 `json:"advance_seconds"`
}

// clockResponse tells the test clock's time and how far ahead of real time
// it runs.
type clockResponse struct {
	Now           string  `json:"now"`
	OffsetSeconds float64 `json:"offset_seconds"`
}

// handleClock serves /_permafrost/v1/clock, present only with --test-clock:
// GET reads the server clock, POST {"advance_seconds": N} moves it forward
// (never back; N within 0…100 years, the total within clock.MaxOffset) and
// answers the new time. It is not a Glacier operation and
// is not signed: it exists for test suites that drive the server.
func (s *Server) handleClock(w http.ResponseWriter, r *http.Request) {
	if info := requestInfoFrom(r.Context()); info != nil {
		info.op = "TestClock"
	}
	switch r.Method {
	case http.MethodGet:
		now, offset := s.TestClock.Read(r.Context())
		writeJSON(w, http.StatusOK, clockResponse{Now: formatTime(now), OffsetSeconds: offset.Seconds()})
	case http.MethodPost:
		var in clockRequest
		body, err := s.readSmallBody(w, r, time.Now())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := json.Unmarshal(body, &in); err != nil {
			s.writeError(w, r, errSerialization("The body must be JSON like {\"advance_seconds\": 3600}: "+err.Error()))
			return
		}
		if in.AdvanceSeconds == nil || *in.AdvanceSeconds < 0 {
			s.writeError(w, r, errBadRequest("advance_seconds must be given and must not be negative: the clock never moves back"))
			return
		}
		if *in.AdvanceSeconds > maxAdvanceSeconds {
			s.writeError(w, r, errBadRequest(fmt.Sprintf("advance_seconds must be between 0 and %d (100 years), not %g", int64(maxAdvanceSeconds), *in.AdvanceSeconds)))
			return
		}
		d := time.Duration(*in.AdvanceSeconds * float64(time.Second))
		if _, off := s.TestClock.Read(r.Context()); d > clock.MaxOffset-off {
			s.writeError(w, r, errBadRequest(fmt.Sprintf("advancing by %g seconds would put the test clock more than %d seconds (200 years) ahead of real time; it is %d seconds ahead now",
				*in.AdvanceSeconds, int64(clock.MaxOffset/time.Second), int64(off/time.Second))))
			return
		}
		now, offset, err := s.TestClock.Advance(r.Context(), d)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, clockResponse{Now: formatTime(now), OffsetSeconds: offset.Seconds()})
	default:
		w.Header().Set("Allow", "GET, POST")
		s.writeError(w, r, errBadRequest("Use GET to read the clock or POST to advance it"))
	}
}
