-- segment_inputs keeps each profile's input to the segment engine, as
-- segment.Builder.AppendCustomer encodes it followed by the profile's
-- active records and consent (see SaveInputs), so that a recompute after
-- a restart reads one row per profile instead of the profile, its links,
-- orders and line items. version is segment.InputVersion: a row of
-- another version is not used. mark is the change mark (a transaction
-- id) taken before the profile was read.
--
-- Every change noted in profile_changes deletes its profile's row (the
-- trigger below). A change committed while SaveInputs writes the
-- profile's row can miss it; such a row is never used, because a row
-- counts only when no change of its profile has an xid at or above its
-- mark (EachSavedInput), and pruning the change log deletes such rows
-- first.
CREATE TABLE segment_inputs (
    profile_id TEXT PRIMARY KEY,
    version    BIGINT NOT NULL,
    mark       BIGINT NOT NULL,
    data       BYTEA NOT NULL
);

CREATE FUNCTION segment_input_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM segment_inputs WHERE profile_id = NEW.profile_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER segment_inputs_stale AFTER INSERT OR UPDATE ON profile_changes
    FOR EACH ROW EXECUTE FUNCTION segment_input_stale();
