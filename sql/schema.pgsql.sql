-- mod_cnca schema for PostgreSQL (kept equivalent to sql/schema.sqlite.sql;
-- build/unit/test_db compares the two). Times are Unix seconds. ID
-- numbers are never stored in the clear: id_enc is AES-256-GCM under the
-- master key, id_hash a keyed hash to find the row.
--
-- Load with `psql -v ON_ERROR_STOP=1 -d DBNAME -f sql/schema.pgsql.sql`, then
-- DBDriver pgsql and DBDParams "host=... dbname=DBNAME user=..." (a libpq
-- connection string). Each write transaction of the module begins with
-- pg_advisory_xact_lock(1668178785, 1) (0x636E6361 is "cnca"), so they run
-- one at a time across all servers, as SQLite's BEGIN IMMEDIATE makes them.

CREATE TABLE IF NOT EXISTS persons (
    id          BIGSERIAL PRIMARY KEY,
    id_hash     TEXT    NOT NULL UNIQUE,
    id_enc      TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    mobile      TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);

-- Serial numbers are recorded (committed) before anything is signed with them.
CREATE TABLE IF NOT EXISTS serials (
    serial      TEXT    PRIMARY KEY,
    id_hash     TEXT    NOT NULL,
    algorithm   TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE IF NOT EXISTS certificates (
    id          BIGSERIAL PRIMARY KEY,
    person_id   BIGINT  NOT NULL REFERENCES persons(id),
    serial      TEXT    NOT NULL UNIQUE REFERENCES serials(serial),
    algorithm   TEXT    NOT NULL,
    not_before  BIGINT  NOT NULL,
    not_after   BIGINT  NOT NULL,
    cert_pem    TEXT    NOT NULL,
    key_enc     TEXT    NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'valid',
    created_at  BIGINT  NOT NULL
);
-- one valid certificate per person: two concurrent issuances cannot both land
CREATE UNIQUE INDEX IF NOT EXISTS certificates_one_valid
    ON certificates(person_id) WHERE status = 'valid';

CREATE TABLE IF NOT EXISTS signatures (
    person_id   BIGINT  PRIMARY KEY REFERENCES persons(id),
    png_b64     TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    updated_at  BIGINT  NOT NULL
);

-- Who was verified and how (Electronic Signature Law art. 24: kept at least
-- five years after the certificate expires; nothing here deletes rows).
CREATE TABLE IF NOT EXISTS audit (
    id          BIGSERIAL PRIMARY KEY,
    at          BIGINT  NOT NULL,
    client      TEXT    NOT NULL,
    event       TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    person_id   BIGINT,
    subject     TEXT,
    detail      TEXT
);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
CREATE INDEX IF NOT EXISTS audit_subject ON audit(subject);

-- SMS sends, counted for the per-number and per-client daily caps (a
-- memcached restart cannot reset them).
CREATE TABLE IF NOT EXISTS sms_sends (
    id          BIGSERIAL PRIMARY KEY,
    at          BIGINT  NOT NULL,
    mobile_hash TEXT    NOT NULL,
    client      TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS sms_sends_mobile ON sms_sends(mobile_hash, at);
CREATE INDEX IF NOT EXISTS sms_sends_client ON sms_sends(client, at);
