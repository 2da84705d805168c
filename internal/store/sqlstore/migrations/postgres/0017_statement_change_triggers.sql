-- The change log's triggers (0015, 0016) ran a PL/pgSQL function and an
-- upsert of profile_changes for every row written, and the upsert fired
-- a function deleting the profile's saved segment input in turn: a sync
-- page writing a thousand orders of a few hundred profiles ran three
-- thousand statements for them. These triggers fire once per statement
-- instead and note the distinct profiles of the statement's rows (its
-- transition tables) in one upsert. A profile this transaction has
-- already noted (its row carries this transaction's xid) is left as it
-- is: the row already says what a reader needs, and its saved input was
-- already deleted by that note. The profiles noted are the same as
-- before; a transition table holds only one event's rows, hence one
-- trigger per event.
DROP TRIGGER profiles_changed_ins ON profiles;
DROP TRIGGER profiles_changed_upd ON profiles;
DROP TRIGGER links_changed_ins ON links;
DROP TRIGGER links_changed_upd ON links;
DROP TRIGGER orders_changed ON orders;
DROP TRIGGER segment_inputs_stale ON profile_changes;
DROP FUNCTION profile_row_changed();
DROP FUNCTION profile_ref_changed();
DROP FUNCTION segment_input_stale();

-- note_profiles notes the given profiles, in a fixed order so that
-- concurrent writers lock their rows in the same order.
CREATE FUNCTION note_profiles(ids text[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO profile_changes (profile_id)
    SELECT DISTINCT id FROM unnest(ids) AS t(id) WHERE id IS NOT NULL ORDER BY id
    ON CONFLICT (profile_id) DO UPDATE SET xid = EXCLUDED.xid, at = EXCLUDED.at
    WHERE profile_changes.xid IS DISTINCT FROM EXCLUDED.xid;
END
$$;

-- profiles: a row inserted or deleted notes its id; an update notes the
-- new id when its data or id changed.
CREATE FUNCTION profiles_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM note_profiles(ARRAY(SELECT id FROM new_rows));
    RETURN NULL;
END
$$;
CREATE FUNCTION profiles_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM note_profiles(ARRAY(SELECT id FROM old_rows));
    RETURN NULL;
END
$$;
CREATE FUNCTION profiles_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM note_profiles(ARRAY(SELECT n.id FROM new_rows n WHERE NOT EXISTS (
        SELECT 1 FROM old_rows o WHERE o.id = n.id AND o.data IS NOT DISTINCT FROM n.data)));
    RETURN NULL;
END
$$;
CREATE TRIGGER profiles_changed_ins AFTER INSERT ON profiles
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION profiles_inserted();
CREATE TRIGGER profiles_changed_upd AFTER UPDATE ON profiles
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION profiles_updated();
CREATE TRIGGER profiles_changed_del AFTER DELETE ON profiles
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION profiles_deleted();

-- links and orders name their profile in profile_id: a row inserted or
-- deleted notes it.
CREATE FUNCTION profile_refs_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM note_profiles(ARRAY(SELECT profile_id FROM new_rows));
    RETURN NULL;
END
$$;
CREATE FUNCTION profile_refs_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM note_profiles(ARRAY(SELECT profile_id FROM old_rows));
    RETURN NULL;
END
$$;

-- A link updated notes the profile it is on when its profile, state or
-- record changed (a re-pull that only moves updated_at changes nothing),
-- and the profile it left when it moved.
CREATE FUNCTION links_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM note_profiles(ARRAY(
        SELECT n.profile_id FROM new_rows n WHERE NOT EXISTS (
            SELECT 1 FROM old_rows o WHERE o.ref_key = n.ref_key
                AND o.profile_id IS NOT DISTINCT FROM n.profile_id AND o.state IS NOT DISTINCT FROM n.state
                AND o.object_type IS NOT DISTINCT FROM n.object_type AND o.ext_id IS NOT DISTINCT FROM n.ext_id
                AND o.platform IS NOT DISTINCT FROM n.platform AND o.account IS NOT DISTINCT FROM n.account)
        UNION ALL
        SELECT o.profile_id FROM old_rows o WHERE NOT EXISTS (
            SELECT 1 FROM new_rows n WHERE n.ref_key = o.ref_key AND n.profile_id IS NOT DISTINCT FROM o.profile_id)));
    RETURN NULL;
END
$$;
CREATE TRIGGER links_changed_ins AFTER INSERT ON links
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION profile_refs_inserted();
CREATE TRIGGER links_changed_upd AFTER UPDATE ON links
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION links_updated();
CREATE TRIGGER links_changed_del AFTER DELETE ON links
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION profile_refs_deleted();

-- Every order updated notes the profile it is on and, when it moved, the
-- one it left: the profiles of the old rows and the new. Line items are
-- only ever written with their order's row (replaced when the order
-- is), so the order's triggers cover them.
CREATE FUNCTION orders_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM note_profiles(ARRAY(SELECT profile_id FROM new_rows UNION ALL SELECT profile_id FROM old_rows));
    RETURN NULL;
END
$$;
CREATE TRIGGER orders_changed_ins AFTER INSERT ON orders
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION profile_refs_inserted();
CREATE TRIGGER orders_changed_upd AFTER UPDATE ON orders
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION orders_updated();
CREATE TRIGGER orders_changed_del AFTER DELETE ON orders
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION profile_refs_deleted();

-- Every profile noted (a row inserted, or one renumbered by a later
-- transaction) deletes its saved segment input.
CREATE FUNCTION segment_inputs_noted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM segment_inputs WHERE profile_id IN (SELECT profile_id FROM new_rows);
    RETURN NULL;
END
$$;
CREATE TRIGGER segment_inputs_stale_ins AFTER INSERT ON profile_changes
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION segment_inputs_noted();
CREATE TRIGGER segment_inputs_stale_upd AFTER UPDATE ON profile_changes
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION segment_inputs_noted();
