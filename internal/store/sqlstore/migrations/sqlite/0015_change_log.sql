-- Which profiles changed, so a recompute reloads those and reuses what
-- it loaded before for the rest. Triggers write it, so every path that
-- changes a profile's data, its records or its orders (a sync page, a
-- merge, an erasure) is counted without its code having to remember.
-- seq only grows (AUTOINCREMENT never reuses a number, even after
-- pruning) and SQLite has one writer, so a reader that saw seq N has seen
-- every change numbered up to N. A profile has one row, its latest
-- change (the old row is deleted and the new one numbered afresh; a
-- trigger's INSERT OR REPLACE would take the conflict handling of the
-- upsert that fired it, and fail), so the
-- table holds at most a row per profile however often they change. at
-- is microseconds since the epoch, for pruning the rows of profiles gone.
CREATE TABLE profile_changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    profile_id TEXT NOT NULL UNIQUE,
    at         INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER))
);
-- ownership_changes is the same for what the connector owns on each
-- platform record: a plan skips reading the ownership of records it
-- found settled last time and whose ownership has not changed since.
-- The store writes it itself, once per record per write (every write of
-- ownership goes through one function): a trigger's row per ownership
-- row doubled the cost of recording a write-back.
CREATE TABLE ownership_changes (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    ref_key TEXT NOT NULL UNIQUE,
    at      INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER))
);
-- membership_changes is the same for current segment memberships: a
-- plan keeps every profile's memberships and reads again only those of
-- the profiles named here.
CREATE TABLE membership_changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    profile_id TEXT NOT NULL UNIQUE,
    at         INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER))
);
-- floor is, per change table, the lowest mark from which the changes
-- after it are all still kept: pruning raises it.
CREATE TABLE change_floor (
    name  TEXT PRIMARY KEY,
    floor INTEGER NOT NULL
);
INSERT INTO change_floor (name, floor) VALUES ('profile_changes', 0), ('ownership_changes', 0), ('membership_changes', 0);

CREATE TRIGGER profiles_changed_ins AFTER INSERT ON profiles BEGIN
    DELETE FROM profile_changes WHERE profile_id = NEW.id;
    INSERT INTO profile_changes (profile_id) VALUES (NEW.id);
END;
CREATE TRIGGER profiles_changed_upd AFTER UPDATE ON profiles WHEN OLD.data IS NOT NEW.data OR OLD.id IS NOT NEW.id BEGIN
    DELETE FROM profile_changes WHERE profile_id = NEW.id;
    INSERT INTO profile_changes (profile_id) VALUES (NEW.id);
END;
CREATE TRIGGER profiles_changed_del AFTER DELETE ON profiles BEGIN
    DELETE FROM profile_changes WHERE profile_id = OLD.id;
    INSERT INTO profile_changes (profile_id) VALUES (OLD.id);
END;

-- A record's link matters to segmentation through which profile it is
-- on, its state and its platform (the profile's records, technographics);
-- a re-pull that only moves updated_at changes nothing.
CREATE TRIGGER links_changed_ins AFTER INSERT ON links BEGIN
    DELETE FROM profile_changes WHERE profile_id = NEW.profile_id;
    INSERT INTO profile_changes (profile_id) VALUES (NEW.profile_id);
END;
CREATE TRIGGER links_changed_upd AFTER UPDATE ON links
WHEN OLD.profile_id IS NOT NEW.profile_id OR OLD.state IS NOT NEW.state OR OLD.object_type IS NOT NEW.object_type
  OR OLD.ext_id IS NOT NEW.ext_id OR OLD.platform IS NOT NEW.platform OR OLD.account IS NOT NEW.account BEGIN
    DELETE FROM profile_changes WHERE profile_id = NEW.profile_id;
    INSERT INTO profile_changes (profile_id) VALUES (NEW.profile_id);
    DELETE FROM profile_changes WHERE profile_id = OLD.profile_id AND OLD.profile_id IS NOT NEW.profile_id;
    INSERT INTO profile_changes (profile_id) SELECT OLD.profile_id WHERE OLD.profile_id IS NOT NEW.profile_id;
END;
CREATE TRIGGER links_changed_del AFTER DELETE ON links BEGIN
    DELETE FROM profile_changes WHERE profile_id = OLD.profile_id;
    INSERT INTO profile_changes (profile_id) VALUES (OLD.profile_id);
END;

-- Line items are only ever written with their order's row (replaced
-- when the order is), so the order's triggers cover them.
CREATE TRIGGER orders_changed_ins AFTER INSERT ON orders BEGIN
    DELETE FROM profile_changes WHERE profile_id = NEW.profile_id;
    INSERT INTO profile_changes (profile_id) VALUES (NEW.profile_id);
END;
CREATE TRIGGER orders_changed_upd AFTER UPDATE ON orders BEGIN
    DELETE FROM profile_changes WHERE profile_id = NEW.profile_id;
    INSERT INTO profile_changes (profile_id) VALUES (NEW.profile_id);
    DELETE FROM profile_changes WHERE profile_id = OLD.profile_id AND OLD.profile_id IS NOT NEW.profile_id;
    INSERT INTO profile_changes (profile_id) SELECT OLD.profile_id WHERE OLD.profile_id IS NOT NEW.profile_id;
END;
CREATE TRIGGER orders_changed_del AFTER DELETE ON orders BEGIN
    DELETE FROM profile_changes WHERE profile_id = OLD.profile_id;
    INSERT INTO profile_changes (profile_id) VALUES (OLD.profile_id);
END;

CREATE TRIGGER memberships_changed_ins AFTER INSERT ON memberships BEGIN
    DELETE FROM membership_changes WHERE profile_id = NEW.profile_id;
    INSERT INTO membership_changes (profile_id) VALUES (NEW.profile_id);
END;
CREATE TRIGGER memberships_changed_upd AFTER UPDATE ON memberships BEGIN
    DELETE FROM membership_changes WHERE profile_id = NEW.profile_id;
    INSERT INTO membership_changes (profile_id) VALUES (NEW.profile_id);
    DELETE FROM membership_changes WHERE profile_id = OLD.profile_id AND OLD.profile_id IS NOT NEW.profile_id;
    INSERT INTO membership_changes (profile_id) SELECT OLD.profile_id WHERE OLD.profile_id IS NOT NEW.profile_id;
END;
CREATE TRIGGER memberships_changed_del AFTER DELETE ON memberships BEGIN
    DELETE FROM membership_changes WHERE profile_id = OLD.profile_id;
    INSERT INTO membership_changes (profile_id) VALUES (OLD.profile_id);
END;
