package glacier

import (
	"context"
)

// AddTagsToVault adds or overwrites tags (operations.md §8.1).
func (s *Service) AddTagsToVault(ctx context.Context, c *Caller, accountID, name string, tags map[string]string) error {
	if err := validateVaultName(name); err != nil {
		return err
	}
	if len(tags) == 0 {
		return Errorf(KindMissingParameter, "Required parameter missing: Tags")
	}
	if len(tags) > MaxTagsPerRequest {
		return Errorf(KindInvalidParameter, "Too many tags: %d tags in one request, the maximum is %d", len(tags), MaxTagsPerRequest)
	}
	for k, v := range tags {
		if err := validateTag(k, v); err != nil {
			return err
		}
	}
	extra := map[string][]string{"aws:TagKeys": nil}
	for k, v := range tags {
		extra["aws:RequestTag/"+k] = []string{v}
		extra["aws:TagKeys"] = append(extra["aws:TagKeys"], k)
	}
	if _, err := s.authorizeVaultWith(ctx, c, "AddTagsToVault", accountID, name, extra); err != nil {
		return err
	}
	err := s.Vaults.AddTags(ctx, accountID, name, tags, s.maxTags())
	switch KindOf(err) {
	case KindLimitExceeded:
		return Errorf(KindLimitExceeded, "The maximum number of tags (%d) for vault %s would be exceeded", s.maxTags(), s.VaultARN(accountID, name))
	case KindNotFound:
		return s.vaultNotFound(accountID, name)
	}
	return err
}

// RemoveTagsFromVault removes tags; absent keys are ignored (§8.2).
func (s *Service) RemoveTagsFromVault(ctx context.Context, c *Caller, accountID, name string, keys []string) error {
	if err := validateVaultName(name); err != nil {
		return err
	}
	if len(keys) == 0 {
		return Errorf(KindMissingParameter, "Required parameter missing: TagKeys")
	}
	if len(keys) > MaxTagsPerRequest {
		return Errorf(KindInvalidParameter, "Too many tag keys: %d keys in one request, the maximum is %d", len(keys), MaxTagsPerRequest)
	}
	for _, k := range keys {
		if err := validateTag(k, ""); err != nil {
			return err
		}
	}
	extra := map[string][]string{"aws:TagKeys": keys}
	if _, err := s.authorizeVaultWith(ctx, c, "RemoveTagsFromVault", accountID, name, extra); err != nil {
		return err
	}
	err := s.Vaults.RemoveTags(ctx, accountID, name, keys)
	if IsNotFound(err) {
		return s.vaultNotFound(accountID, name)
	}
	return err
}

// ListTagsForVault returns the vault's tags (§8.3).
func (s *Service) ListTagsForVault(ctx context.Context, c *Caller, accountID, name string) (map[string]string, error) {
	if _, err := s.authorizeVault(ctx, c, "ListTagsForVault", accountID, name); err != nil {
		return nil, err
	}
	tags, err := s.Vaults.GetTags(ctx, accountID, name)
	if IsNotFound(err) {
		return nil, s.vaultNotFound(accountID, name)
	}
	return tags, err
}
