"""Accounts, sessions and API tokens, and the append-only audit log.

Secrets (session cookies, bearer tokens) are stored as SHA-256 hashes: whoever reads the
table cannot sign in with what they read. Passwords are argon2 hashes. The audit log
refuses UPDATE, DELETE and TRUNCATE by trigger, whoever asks; the service's database
role (migration 0008) may only insert into it and read it.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE app_users (
            id            bigserial PRIMARY KEY,
            name          text NOT NULL UNIQUE
                          CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$'),
            display_name  text,
            roles         text[] NOT NULL CHECK (
                              cardinality(roles) > 0 AND roles <@ ARRAY['admin', 'planner',
                              'police', 'patrol_leader', 'grid_worker', 'viewer']),
            scope         text[] NOT NULL DEFAULT '{}',
            password_hash text,
            disabled      boolean NOT NULL DEFAULT false,
            failed_logins integer NOT NULL DEFAULT 0,
            locked_until  timestamptz,
            created_at    timestamptz NOT NULL DEFAULT now(),
            password_changed_at timestamptz
        );
        COMMENT ON TABLE app_users IS 'people who sign in to gridgis (gridgis users ...)';

        CREATE TABLE app_credentials (
            id           bigserial PRIMARY KEY,
            user_id      bigint NOT NULL REFERENCES app_users (id) ON DELETE CASCADE,
            kind         text NOT NULL CHECK (kind IN ('session', 'token')),
            secret_hash  bytea NOT NULL UNIQUE,
            label        text,
            csrf         text,
            created_at   timestamptz NOT NULL DEFAULT now(),
            expires_at   timestamptz NOT NULL,
            last_used_at timestamptz,
            revoked_at   timestamptz
        );
        CREATE INDEX app_credentials_user ON app_credentials (user_id, kind);
        COMMENT ON TABLE app_credentials IS
            'signed-in sessions and API tokens; secret_hash is sha256 of the secret';

        CREATE TABLE audit_log (
            id          bigserial PRIMARY KEY,
            at          timestamptz NOT NULL DEFAULT clock_timestamp(),
            user_name   text,
            roles       text[],
            client      text,
            action      text NOT NULL,
            route       text,
            resource    text,
            record_ids  bigint[],
            person_ids  bigint[],
            personal    text CHECK (personal IN ('masked', 'unmasked')),
            purpose     text,
            before      jsonb,
            after       jsonb,
            detail      text
        );
        CREATE INDEX audit_log_at ON audit_log (at);
        CREATE INDEX audit_log_user ON audit_log (user_name, at);
        CREATE INDEX audit_log_person ON audit_log USING gin (person_ids);
        COMMENT ON TABLE audit_log IS 'who read or changed what; append-only';

        CREATE FUNCTION gridgis_audit_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the audit log is append-only'
                USING ERRCODE = 'insufficient_privilege';
        END $$;
        CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION gridgis_audit_append_only();
        CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION gridgis_audit_append_only();

        -- The published grids a scope (grid, community, subdistrict or district codes)
        -- covers.
        CREATE FUNCTION gridgis_scope_grids(scope text[]) RETURNS bigint[]
        LANGUAGE sql STABLE AS $$
            SELECT coalesce(array_agg(g.id ORDER BY g.id), '{}')
            FROM published_grids g
            LEFT JOIN areas c ON c.id = g.community_id
            LEFT JOIN areas s ON s.id = c.parent_id
            LEFT JOIN areas d ON d.id = s.parent_id
            WHERE g.code = ANY (scope) OR c.code = ANY (scope) OR s.code = ANY (scope)
               OR d.code = ANY (scope)
        $$;
    """)


def downgrade() -> None:
    op.execute("""
        DROP FUNCTION gridgis_scope_grids(text[]);
        DROP TABLE audit_log;
        DROP FUNCTION gridgis_audit_append_only();
        DROP TABLE app_credentials;
        DROP TABLE app_users;
    """)
