#include "cnca_audit.h"

apr_status_t cnca_audit_write(cnca_db_t *db, apr_pool_t *p, const cnca_audit_t *a)
{
    return cnca_db_exec(db, p, NULL, "audit_insert", 7, cnca_db_int(p, a->at),
                        a->client ? a->client : "-", a->event, a->outcome,
                        a->person_id > 0 ? cnca_db_int(p, a->person_id) : NULL, a->subject,
                        a->detail);
}
