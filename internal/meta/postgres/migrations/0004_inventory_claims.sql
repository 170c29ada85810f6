-- 0004_inventory_claims: a node about to take a vault's inventory claims it
-- until a time (Unix ms), so that nodes sharing a database take each
-- snapshot once.
ALTER TABLE vaults ADD COLUMN inventory_claim_until bigint;
