-- Each account's audit trail (twofa-record's AuditTrail): append-only.
-- `binding` rows (authenticators bound, replaced, removed) are kept for
-- as long as the account is; the others are pruned by count and age.
CREATE TABLE twofa_events (
    id      BIGSERIAL PRIMARY KEY,
    account TEXT      NOT NULL,
    at      BIGINT    NOT NULL CHECK (at >= 0),
    name    TEXT      NOT NULL,
    detail  TEXT      NOT NULL,
    binding BOOLEAN   NOT NULL
);

CREATE INDEX twofa_events_account ON twofa_events (account, binding, id);
CREATE INDEX twofa_events_at ON twofa_events (at) WHERE NOT binding;

COMMENT ON TABLE twofa_events IS
    'twofa audit trail: events of decisions and factor changes, never a secret';
