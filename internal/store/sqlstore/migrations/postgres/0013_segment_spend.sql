-- Campaign spend per segment and period entered in the web app, for the
-- return on spend. Amounts are minor units of their currency; periods are
-- [period_from, period_to) in microseconds since the epoch, UTC.
CREATE TABLE segment_spend (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    segment     TEXT NOT NULL,
    amount      BIGINT NOT NULL,
    currency    TEXT NOT NULL,
    period_from BIGINT NOT NULL,
    period_to   BIGINT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX segment_spend_segment ON segment_spend (segment, period_from);
