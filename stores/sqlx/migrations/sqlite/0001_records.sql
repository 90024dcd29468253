-- One row per account and kind of state (twofa-record's kinds: account,
-- totp, hotp, secrets). `version` grows by one at every save and never
-- restarts; a save is one UPDATE ... WHERE version = <loaded>.
CREATE TABLE twofa_records (
    account    TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    version    INTEGER NOT NULL CHECK (version > 0),
    format     INTEGER NOT NULL,
    body       TEXT    NOT NULL CHECK (json_valid(body)),
    updated_at TEXT    NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (account, kind)
) STRICT;
