-- Campaign spend per segment and period entered in the web app, for the
-- return on spend. Amounts are minor units of their currency; periods are
-- [period_from, period_to) in microseconds since the epoch, UTC.
CREATE TABLE segment_spend (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    segment     TEXT NOT NULL,
    amount      INTEGER NOT NULL,
    currency    TEXT NOT NULL,
    period_from INTEGER NOT NULL,
    period_to   INTEGER NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX segment_spend_segment ON segment_spend (segment, period_from);
