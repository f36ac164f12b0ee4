-- +goose Up
-- A user's resources are read, in id order, from the shares to their
-- workspaces and to them: the grantee's shares sorted by resource.
DROP INDEX resource_shares_grantee;
CREATE INDEX resource_shares_grantee ON resource_shares (grantee_id, resource_id);

-- +goose Down
DROP INDEX resource_shares_grantee;
CREATE INDEX resource_shares_grantee ON resource_shares (grantee_id);
