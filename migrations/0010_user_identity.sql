-- People are known by their directory's stable ids (Entra ID `tid` + `oid` claims); the email is an
-- attribute that may change. Users known only by email (signed in before this, or the dev identity)
-- keep their row and get their ids at their next sign-in with a token that names that email.
ALTER TABLE app_users
    ADD COLUMN tenant_id       text,
    ADD COLUMN object_id       text,
    -- The role came from the token's app roles (managed in the directory), not from an admin here.
    ADD COLUMN role_from_token boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT app_users_directory_id_whole CHECK ((tenant_id IS NULL) = (object_id IS NULL));
-- Every authenticated request reads its user through this index (roles are never cached).
CREATE UNIQUE INDEX app_users_directory_id ON app_users (tenant_id, object_id);
