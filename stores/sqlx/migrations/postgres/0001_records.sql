-- One row per account and kind of state (twofa-record's kinds: account,
-- totp, hotp, secrets). `version` grows by one at every save and never
-- restarts; a save is one UPDATE ... WHERE version = <loaded>.
CREATE TABLE twofa_records (
    account    TEXT        NOT NULL,
    kind       TEXT        NOT NULL,
    version    BIGINT      NOT NULL CHECK (version > 0),
    format     BIGINT      NOT NULL,
    body       JSONB       NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (account, kind)
);

COMMENT ON TABLE twofa_records IS
    'twofa per-account state: throttle, replay marks, tickets, challenges, devices, sealed secrets';
COMMENT ON COLUMN twofa_records.body IS
    'the state as JSON (format column says which); no secret in the clear';
