-- mod_cnca schema for SQLite (sql/schema.pgsql.sql is the same for PostgreSQL).
-- Times are Unix seconds. ID numbers are never stored in the clear: id_enc is
-- AES-256-GCM under the master key, id_hash a keyed hash to find the row.
PRAGMA journal_mode = WAL;

CREATE TABLE IF NOT EXISTS persons (
    id          INTEGER PRIMARY KEY,
    id_hash     TEXT    NOT NULL UNIQUE,
    id_enc      TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    mobile      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- Serial numbers are recorded (committed) before anything is signed with them.
CREATE TABLE IF NOT EXISTS serials (
    serial      TEXT    PRIMARY KEY,
    id_hash     TEXT    NOT NULL,
    algorithm   TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS certificates (
    id          INTEGER PRIMARY KEY,
    person_id   INTEGER NOT NULL REFERENCES persons(id),
    serial      TEXT    NOT NULL UNIQUE REFERENCES serials(serial),
    algorithm   TEXT    NOT NULL,
    not_before  INTEGER NOT NULL,
    not_after   INTEGER NOT NULL,
    cert_pem    TEXT    NOT NULL,
    key_enc     TEXT    NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'valid',
    created_at  INTEGER NOT NULL
);
-- one valid certificate per person: two concurrent issuances cannot both land
CREATE UNIQUE INDEX IF NOT EXISTS certificates_one_valid
    ON certificates(person_id) WHERE status = 'valid';

CREATE TABLE IF NOT EXISTS signatures (
    person_id   INTEGER PRIMARY KEY REFERENCES persons(id),
    png_b64     TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- Who was verified and how (Electronic Signature Law art. 24: kept at least
-- five years after the certificate expires; nothing here deletes rows).
CREATE TABLE IF NOT EXISTS audit (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    client      TEXT    NOT NULL,
    event       TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    person_id   INTEGER,
    subject     TEXT,
    detail      TEXT
);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
CREATE INDEX IF NOT EXISTS audit_subject ON audit(subject);

-- SMS sends, counted for the per-number and per-client daily caps (a
-- memcached restart cannot reset them).
CREATE TABLE IF NOT EXISTS sms_sends (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    mobile_hash TEXT    NOT NULL,
    client      TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS sms_sends_mobile ON sms_sends(mobile_hash, at);
CREATE INDEX IF NOT EXISTS sms_sends_client ON sms_sends(client, at);
