-- Which profiles changed, so a recompute reloads those and reuses what
-- it loaded before for the rest. Triggers write it, so every path that
-- changes a profile's data, its records or its orders (a sync page, a
-- merge, an erasure) is counted without its code having to remember.
--
-- Transactions commit out of the order their numbers were drawn in, so a
-- sequence cannot say "everything up to here is seen". Each row carries
-- its writing transaction's id instead; a reader's mark is the oldest
-- transaction still running when it read (pg_snapshot_xmin), so every
-- transaction numbered below the mark had finished and its rows were
-- visible, and the next read takes rows numbered from the mark on
-- (a row may be read twice; reloading a profile twice is harmless). A
-- profile has one row, stamped by its latest writer, so the table holds
-- at most a row per profile however often they change.
-- at is microseconds since the epoch, for pruning.
CREATE TABLE profile_changes (
    profile_id TEXT PRIMARY KEY,
    xid        BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    at         BIGINT NOT NULL DEFAULT ((extract(epoch FROM clock_timestamp()) * 1000000)::bigint)
);
CREATE INDEX profile_changes_xid ON profile_changes (xid);
-- ownership_changes is the same for what the connector owns on each
-- platform record: a plan skips reading the ownership of records it
-- found settled last time and whose ownership has not changed since.
-- The store writes it itself, once per record per write (every write of
-- ownership goes through one function): a trigger's row per ownership
-- row doubled the cost of recording a write-back.
CREATE TABLE ownership_changes (
    ref_key TEXT PRIMARY KEY,
    xid     BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    at      BIGINT NOT NULL DEFAULT ((extract(epoch FROM clock_timestamp()) * 1000000)::bigint)
);
CREATE INDEX ownership_changes_xid ON ownership_changes (xid);
-- membership_changes is the same for current segment memberships: a
-- plan keeps every profile's memberships and reads again only those of
-- the profiles named here.
CREATE TABLE membership_changes (
    profile_id TEXT PRIMARY KEY,
    xid        BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    at         BIGINT NOT NULL DEFAULT ((extract(epoch FROM clock_timestamp()) * 1000000)::bigint)
);
CREATE INDEX membership_changes_xid ON membership_changes (xid);
-- floor is, per change table, the lowest mark from which the changes
-- after it are all still kept: pruning raises it.
CREATE TABLE change_floor (
    name  TEXT PRIMARY KEY,
    floor BIGINT NOT NULL
);
INSERT INTO change_floor (name, floor) VALUES ('profile_changes', 0), ('ownership_changes', 0), ('membership_changes', 0);

-- profile_row_changed notes a profiles row; profile_ref_changed a row
-- that names its profile in profile_id (links, orders), both the
-- profile it is on and, when it moved, the one it left.
CREATE FUNCTION profile_row_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO profile_changes (profile_id) VALUES (OLD.id) ON CONFLICT (profile_id) DO UPDATE SET xid = EXCLUDED.xid, at = EXCLUDED.at;
    ELSE
        INSERT INTO profile_changes (profile_id) VALUES (NEW.id) ON CONFLICT (profile_id) DO UPDATE SET xid = EXCLUDED.xid, at = EXCLUDED.at;
    END IF;
    RETURN NULL;
END
$$;
CREATE FUNCTION profile_ref_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO profile_changes (profile_id) VALUES (NEW.profile_id) ON CONFLICT (profile_id) DO UPDATE SET xid = EXCLUDED.xid, at = EXCLUDED.at;
    END IF;
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.profile_id IS DISTINCT FROM NEW.profile_id) THEN
        INSERT INTO profile_changes (profile_id) VALUES (OLD.profile_id) ON CONFLICT (profile_id) DO UPDATE SET xid = EXCLUDED.xid, at = EXCLUDED.at;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER profiles_changed_ins AFTER INSERT OR DELETE ON profiles
    FOR EACH ROW EXECUTE FUNCTION profile_row_changed();
CREATE TRIGGER profiles_changed_upd AFTER UPDATE ON profiles
    FOR EACH ROW WHEN (OLD.data IS DISTINCT FROM NEW.data OR OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION profile_row_changed();

-- A record's link matters to segmentation through which profile it is
-- on, its state and its platform (the profile's records, technographics);
-- a re-pull that only moves updated_at changes nothing.
CREATE TRIGGER links_changed_ins AFTER INSERT OR DELETE ON links
    FOR EACH ROW EXECUTE FUNCTION profile_ref_changed();
CREATE TRIGGER links_changed_upd AFTER UPDATE ON links
    FOR EACH ROW WHEN (OLD.profile_id IS DISTINCT FROM NEW.profile_id OR OLD.state IS DISTINCT FROM NEW.state
        OR OLD.object_type IS DISTINCT FROM NEW.object_type OR OLD.ext_id IS DISTINCT FROM NEW.ext_id
        OR OLD.platform IS DISTINCT FROM NEW.platform OR OLD.account IS DISTINCT FROM NEW.account)
    EXECUTE FUNCTION profile_ref_changed();

-- Line items are only ever written with their order's row (replaced
-- when the order is), so the order's triggers cover them.
CREATE TRIGGER orders_changed AFTER INSERT OR UPDATE OR DELETE ON orders
    FOR EACH ROW EXECUTE FUNCTION profile_ref_changed();

CREATE FUNCTION membership_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO membership_changes (profile_id) VALUES (NEW.profile_id) ON CONFLICT (profile_id) DO UPDATE SET xid = EXCLUDED.xid, at = EXCLUDED.at;
    END IF;
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.profile_id IS DISTINCT FROM NEW.profile_id) THEN
        INSERT INTO membership_changes (profile_id) VALUES (OLD.profile_id) ON CONFLICT (profile_id) DO UPDATE SET xid = EXCLUDED.xid, at = EXCLUDED.at;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER memberships_changed AFTER INSERT OR UPDATE OR DELETE ON memberships
    FOR EACH ROW EXECUTE FUNCTION membership_changed();
