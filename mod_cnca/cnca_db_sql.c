/* Every SQL statement of the module, by label, portable between SQLite and
 * PostgreSQL (APR DBD placeholders; arguments are strings). Integer columns
 * take %lld: the pgsql driver declares each %s parameter varchar, and
 * PostgreSQL has no implicit cast from varchar to bigint (SQLite binds both
 * as text and converts by column affinity). */
#include "cnca_db.h"

const cnca_db_stmt_t cnca_db_statements[] = {
    {"person_by_id_hash", "SELECT p.id, p.name, p.mobile, c.serial FROM persons p"
                          " LEFT JOIN certificates c ON c.person_id = p.id AND c.status = 'valid'"
                          " WHERE p.id_hash = %s"},
    /* the person, with the valid certificate's columns (NULL when none)
     * and whether a signature is kept (0 or 1) */
    {"holder_by_id",
     "SELECT p.name, p.mobile, p.id_enc, p.id_hash, c.serial, c.algorithm, c.not_before,"
     " c.not_after, c.status, c.cert_pem,"
     " (SELECT COUNT(*) FROM signatures s WHERE s.person_id = p.id) FROM persons p"
     " LEFT JOIN certificates c ON c.person_id = p.id AND c.status = 'valid' WHERE p.id = %lld"},
    {"person_insert", "INSERT INTO persons (id_hash, id_enc, name, mobile, created_at, updated_at)"
                      " VALUES (%s, %s, %s, %s, %lld, %lld)"},
    {"person_update_mobile", "UPDATE persons SET mobile = %s, updated_at = %lld WHERE id = %lld"},
    {"person_update",
     "UPDATE persons SET name = %s, mobile = %s, updated_at = %lld WHERE id = %lld"},
    {"serial_insert", "INSERT INTO serials (serial, id_hash, algorithm, created_at)"
                      " VALUES (%s, %s, %s, %lld)"},
    {"cert_insert",
     "INSERT INTO certificates (person_id, serial, algorithm, not_before, not_after, cert_pem,"
     " key_enc, status, created_at) VALUES (%lld, %s, %s, %lld, %lld, %s, %s, 'valid', %lld)"},
    {"signature_upsert",
     "INSERT INTO signatures (person_id, png_b64, source, updated_at) VALUES (%lld, %s, %s, %lld)"
     " ON CONFLICT (person_id) DO UPDATE SET png_b64 = excluded.png_b64,"
     " source = excluded.source, updated_at = excluded.updated_at"},
    {"signature_get", "SELECT png_b64 FROM signatures WHERE person_id = %lld"},
    {"audit_insert", "INSERT INTO audit (at, client, event, outcome, person_id, subject, detail)"
                     " VALUES (%lld, %s, %s, %s, %lld, %s, %s)"},
    {"sms_insert", "INSERT INTO sms_sends (at, mobile_hash, client) VALUES (%lld, %s, %s)"},
    /* since the day's start: count, oldest, newest; since the hour's start
     * (the first two arguments, both that start): count, oldest */
    {"sms_stats_mobile",
     "SELECT COUNT(*), MIN(at), MAX(at), COUNT(CASE WHEN at >= %lld THEN 1 END),"
     " MIN(CASE WHEN at >= %lld THEN at END) FROM sms_sends WHERE mobile_hash = %s AND at >= %lld"},
    /* the newest `limit` sends only: reading stops at the cap (a carrier
     * NAT puts many applicants behind one address), and the oldest of them
     * is the one whose turning 24 h old lets the address send again */
    {"sms_stats_client",
     "SELECT COUNT(*), MIN(at) FROM (SELECT at FROM sms_sends WHERE client = %s AND at >= %lld"
     " ORDER BY at DESC LIMIT %lld) AS recent"},
    {NULL, NULL},
};
