package api

import (
	"net/http"
	"strings"

	"github.com/permafrost/permafrost/internal/glacier"
)

// handleCreateVault: PUT /{account}/vaults/{vault} (operations.md §4.1).
func (s *Server) handleCreateVault(w http.ResponseWriter, r *http.Request, c *call) error {
	v, err := s.Service.CreateVault(r.Context(), c.caller, c.account, r.PathValue("vault"))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/"+v.AccountID+"/vaults/"+v.Name)
	writeEmpty(w, http.StatusCreated)
	return nil
}

// handleDescribeVault: GET /{account}/vaults/{vault} (§4.3).
func (s *Server) handleDescribeVault(w http.ResponseWriter, r *http.Request, c *call) error {
	v, err := s.Service.DescribeVault(r.Context(), c.caller, c.account, r.PathValue("vault"))
	if err != nil {
		return err
	}
	s.writeVault(w, &v)
	return nil
}

// handleListVaults: GET /{account}/vaults?marker=&limit= (§4.4). The
// marker is the ARN of the first vault of the next page.
func (s *Server) handleListVaults(w http.ResponseWriter, r *http.Request, c *call) error {
	limit, err := parseLimit(r, 10, 10)
	if err != nil {
		return err
	}
	from := ""
	if m := queryGet(r, "marker"); m != "" {
		prefix := s.Service.VaultARN(c.account, "")
		name, ok := strings.CutPrefix(m, prefix)
		if !ok || name == "" {
			return glacier.Errorf(glacier.KindInvalidParameter, "Invalid marker: %q is not a vault ARN of account %s in %s", m, c.account, s.Region)
		}
		from = name
	}
	p, err := s.Service.ListVaultPage(r.Context(), c.caller, c.account, from, limit)
	if err != nil {
		return err
	}
	s.writeVaultPage(w, &p, c.account, from, limit)
	return nil
}

// handleDeleteVault: DELETE /{account}/vaults/{vault} (§4.2).
func (s *Server) handleDeleteVault(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.Service.DeleteVault(r.Context(), c.caller, c.account, r.PathValue("vault")); err != nil {
		return err
	}
	writeEmpty(w, http.StatusNoContent)
	return nil
}

// handleListTagsForVault: GET /{account}/vaults/{vault}/tags (§8.3).
func (s *Server) handleListTagsForVault(w http.ResponseWriter, r *http.Request, c *call) error {
	tags, err := s.Service.ListTagsForVault(r.Context(), c.caller, c.account, r.PathValue("vault"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ListTagsForVaultOutput{Tags: tags})
	return nil
}

// handleTags: POST /{account}/vaults/{vault}/tags?operation=add|remove
// (§8.1, §8.2, §8.4).
func (s *Server) handleTags(w http.ResponseWriter, r *http.Request, c *call) error {
	vault := r.PathValue("vault")
	var err error
	switch op := r.URL.Query().Get("operation"); op {
	case "add":
		var in AddTagsToVaultInput
		if err = decodeJSON(r, &in, "Tags"); err == nil {
			err = s.Service.AddTagsToVault(r.Context(), c.caller, c.account, vault, in.Tags)
		}
	case "remove":
		if info := requestInfoFrom(r.Context()); info != nil {
			info.op = "RemoveTagsFromVault"
		}
		var in RemoveTagsFromVaultInput
		if err = decodeJSON(r, &in, "TagKeys"); err == nil {
			err = s.Service.RemoveTagsFromVault(r.Context(), c.caller, c.account, vault, in.TagKeys)
		}
	default:
		err = glacier.Errorf(glacier.KindInvalidParameter, "Invalid operation: %q. The operation query parameter must be add or remove", op)
	}
	if err != nil {
		return err
	}
	writeEmpty(w, http.StatusNoContent)
	return nil
}

// handleSetVaultNotifications: PUT …/notification-configuration (§7.1).
func (s *Server) handleSetVaultNotifications(w http.ResponseWriter, r *http.Request, c *call) error {
	var in VaultNotificationConfig
	if err := decodeJSON(r, &in, "vaultNotificationConfig"); err != nil {
		return err
	}
	cfg := glacier.NotificationConfig{SNSTopic: in.SNSTopic, Events: in.Events}
	if err := s.Service.SetVaultNotifications(r.Context(), c.caller, c.account, r.PathValue("vault"), cfg); err != nil {
		return err
	}
	writeEmpty(w, http.StatusNoContent)
	return nil
}

// handleGetVaultNotifications: GET …/notification-configuration (§7.2).
func (s *Server) handleGetVaultNotifications(w http.ResponseWriter, r *http.Request, c *call) error {
	cfg, err := s.Service.GetVaultNotifications(r.Context(), c.caller, c.account, r.PathValue("vault"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, VaultNotificationConfig{SNSTopic: cfg.SNSTopic, Events: cfg.Events})
	return nil
}

// handleDeleteVaultNotifications: DELETE …/notification-configuration (§7.3).
func (s *Server) handleDeleteVaultNotifications(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.Service.DeleteVaultNotifications(r.Context(), c.caller, c.account, r.PathValue("vault")); err != nil {
		return err
	}
	writeEmpty(w, http.StatusNoContent)
	return nil
}
