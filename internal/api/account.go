package api

import (
	"net/http"

	"github.com/permafrost/permafrost/internal/glacier"
)

// Account-level operations (operations.md §12).

type DataRetrievalRule struct {
	Strategy     string
	BytesPerHour *int64 `json:",omitempty"`
}

type DataRetrievalPolicy struct {
	Rules []DataRetrievalRule
}

type GetDataRetrievalPolicyOutput struct {
	Policy DataRetrievalPolicy
}

type SetDataRetrievalPolicyInput struct {
	Policy *DataRetrievalPolicy
}

type ProvisionedCapacityDescription struct {
	CapacityId     string
	StartDate      string
	ExpirationDate string
}

type ListProvisionedCapacityOutput struct {
	ProvisionedCapacityList []ProvisionedCapacityDescription
}

// handleGetDataRetrievalPolicy: GET /{account}/policies/data-retrieval (§12.1).
func (s *Server) handleGetDataRetrievalPolicy(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := s.Service.GetDataRetrievalPolicy(r.Context(), c.caller, c.account)
	if err != nil {
		return err
	}
	rule := DataRetrievalRule{Strategy: p.Strategy}
	if p.Strategy == "BytesPerHour" {
		rule.BytesPerHour = &p.BytesPerHour
	}
	writeJSON(w, http.StatusOK, GetDataRetrievalPolicyOutput{Policy: DataRetrievalPolicy{Rules: []DataRetrievalRule{rule}}})
	return nil
}

// handleSetDataRetrievalPolicy: PUT /{account}/policies/data-retrieval (§12.2).
func (s *Server) handleSetDataRetrievalPolicy(w http.ResponseWriter, r *http.Request, c *call) error {
	var in SetDataRetrievalPolicyInput
	if err := decodeJSON(r, &in, "Policy"); err != nil {
		return err
	}
	if in.Policy == nil {
		return glacier.Errorf(glacier.KindMissingParameter, "Required parameter missing: Policy")
	}
	rules := make([]glacier.RetrievalPolicy, len(in.Policy.Rules))
	for i, rule := range in.Policy.Rules {
		rules[i].Strategy = rule.Strategy
		if rule.BytesPerHour != nil {
			rules[i].BytesPerHour = *rule.BytesPerHour
			if *rule.BytesPerHour == 0 {
				rules[i].BytesPerHour = -1 // present but zero: out of range, not absent
			}
		}
	}
	if err := s.Service.SetDataRetrievalPolicy(r.Context(), c.caller, c.account, rules); err != nil {
		return err
	}
	writeEmpty(w, http.StatusNoContent)
	return nil
}

// handlePurchaseProvisionedCapacity: POST /{account}/provisioned-capacity (§12.3).
func (s *Server) handlePurchaseProvisionedCapacity(w http.ResponseWriter, r *http.Request, c *call) error {
	pc, err := s.Service.PurchaseProvisionedCapacity(r.Context(), c.caller, c.account)
	if err != nil {
		return err
	}
	w.Header().Set("x-amz-capacity-id", pc.ID)
	writeEmpty(w, http.StatusCreated)
	return nil
}

// handleListProvisionedCapacity: GET /{account}/provisioned-capacity (§12.4).
func (s *Server) handleListProvisionedCapacity(w http.ResponseWriter, r *http.Request, c *call) error {
	list, err := s.Service.ListProvisionedCapacity(r.Context(), c.caller, c.account)
	if err != nil {
		return err
	}
	out := ListProvisionedCapacityOutput{ProvisionedCapacityList: make([]ProvisionedCapacityDescription, len(list))}
	for i, pc := range list {
		out.ProvisionedCapacityList[i] = ProvisionedCapacityDescription{
			CapacityId:     pc.ID,
			StartDate:      formatTime(pc.StartDate),
			ExpirationDate: formatTime(pc.ExpiresAt),
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
