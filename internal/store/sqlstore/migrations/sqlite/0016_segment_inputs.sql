-- segment_inputs keeps each profile's input to the segment engine, as
-- segment.Builder.AppendCustomer encodes it followed by the profile's
-- active records and consent (see SaveInputs), so that a recompute after
-- a restart reads one row per profile instead of the profile, its links,
-- orders and line items. version is segment.InputVersion: a row of
-- another version is not used. mark is the change mark taken before the
-- profile was read.
--
-- A row is only ever current: every change noted in profile_changes
-- deletes its profile's row (the trigger below), SaveInputs keeps no row
-- whose profile changed after its mark, and an erasure, which changes
-- the profile, takes the erased data out of this table with it.
CREATE TABLE segment_inputs (
    profile_id TEXT PRIMARY KEY,
    version    INTEGER NOT NULL,
    mark       INTEGER NOT NULL,
    data       BLOB NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER segment_inputs_stale AFTER INSERT ON profile_changes BEGIN
    DELETE FROM segment_inputs WHERE profile_id = NEW.profile_id;
END;
