-- Each account's audit trail (twofa-record's AuditTrail): append-only.
-- `binding` rows (authenticators bound, replaced, removed) are kept for
-- as long as the account is; the others are pruned by count and age.
CREATE TABLE twofa_events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT    NOT NULL,
    at      INTEGER NOT NULL CHECK (at >= 0),
    name    TEXT    NOT NULL,
    detail  TEXT    NOT NULL CHECK (json_valid(detail)),
    binding INTEGER NOT NULL CHECK (binding IN (0, 1))
) STRICT;

CREATE INDEX twofa_events_account ON twofa_events (account, binding, id);
CREATE INDEX twofa_events_at ON twofa_events (at) WHERE NOT binding;
