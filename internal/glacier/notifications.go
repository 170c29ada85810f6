package glacier

import (
	"context"
	"regexp"
	"slices"
)

// Notification events a vault can subscribe to (operations.md §7.1).
var notificationEvents = []string{"ArchiveRetrievalCompleted", "InventoryRetrievalCompleted"}

// ValidTopicARN reports whether s is an SNS topic ARN:
// arn:<partition>:sns:<region>:<12-digit account>:<topic>. Vault
// notification configurations, InitiateJob and the notifier's endpoint
// settings all use this one rule.
func ValidTopicARN(s string) bool { return snsTopicARN.MatchString(s) }

var snsTopicARN = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)

// SetVaultNotifications stores the vault's notification configuration.
func (s *Service) SetVaultNotifications(ctx context.Context, c *Caller, accountID, name string, cfg NotificationConfig) error {
	if err := validateVaultName(name); err != nil {
		return err
	}
	if cfg.SNSTopic == "" {
		return Errorf(KindMissingParameter, "Required parameter missing: SNSTopic")
	}
	if !snsTopicARN.MatchString(cfg.SNSTopic) {
		return Errorf(KindInvalidParameter, "Invalid SNSTopic: %q is not an SNS topic ARN (arn:aws:sns:<region>:<account-id>:<topic>)", cfg.SNSTopic)
	}
	if err := s.checkTopicAccount("SNSTopic", cfg.SNSTopic, accountID); err != nil {
		return err
	}
	if len(cfg.Events) == 0 {
		return Errorf(KindMissingParameter, "Required parameter missing: Events")
	}
	var events []string
	for _, e := range cfg.Events {
		if !slices.Contains(notificationEvents, e) {
			return Errorf(KindInvalidParameter, "Invalid event %q: valid events are ArchiveRetrievalCompleted and InventoryRetrievalCompleted", e)
		}
		if !slices.Contains(events, e) {
			events = append(events, e)
		}
	}
	cfg.Events = events
	if _, err := s.authorizeVault(ctx, c, "SetVaultNotifications", accountID, name); err != nil {
		return err
	}
	err := s.Vaults.SetNotificationConfig(ctx, accountID, name, cfg)
	if IsNotFound(err) {
		return s.vaultNotFound(accountID, name)
	}
	return err
}

// GetVaultNotifications returns the configuration, or KindNotFound.
func (s *Service) GetVaultNotifications(ctx context.Context, c *Caller, accountID, name string) (NotificationConfig, error) {
	if _, err := s.authorizeVault(ctx, c, "GetVaultNotifications", accountID, name); err != nil {
		return NotificationConfig{}, err
	}
	cfg, err := s.Vaults.GetNotificationConfig(ctx, accountID, name)
	if IsNotFound(err) {
		return NotificationConfig{}, Errorf(KindNotFound, "No notification configuration is set for vault: %s", s.VaultARN(accountID, name))
	}
	return cfg, err
}

// DeleteVaultNotifications removes the configuration; removing none is fine.
func (s *Service) DeleteVaultNotifications(ctx context.Context, c *Caller, accountID, name string) error {
	if _, err := s.authorizeVault(ctx, c, "DeleteVaultNotifications", accountID, name); err != nil {
		return err
	}
	err := s.Vaults.DeleteNotificationConfig(ctx, accountID, name)
	if IsNotFound(err) {
		return s.vaultNotFound(accountID, name)
	}
	return err
}
