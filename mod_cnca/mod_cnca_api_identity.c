/* POST /apply and POST /login: the first step of both flows (manual 3.1
 * steps 2-3, manual 4): check the identity, look up the certificate, and
 * start the flow in the session. */
#include "mod_cnca.h"

#include <string.h>

#include <apr_strings.h>

#include "cnca_flow.h"
#include "cnca_mask.h"
#include "cnca_person.h"
#include "cnca_validate.h"

typedef struct {
    const char *name, *id_number, *mobile, *id_hash;
} identity_t;

/* Validates the three fields in page order; answers the first bad one. */
static int read_identity(cnca_api_t *api, identity_t *id, const char *event)
{
    static const char *const fields[] = {"name", "id_number", "mobile"};
    const char **outs[] = {&id->name, &id->id_number, &id->mobile};
    apr_pool_t *p = api->r->pool;
    const char *msg = NULL;
    apr_status_t rv = APR_SUCCESS;
    int i;

    for (i = 0; i < 3 && rv == APR_SUCCESS; ++i) {
        const char *in = cnca_api_str(api, fields[i]);
        switch (i) {
            case 0:
                rv = cnca_validate_name(outs[i], &msg, p, in);
                break;
            case 1:
                rv = cnca_validate_id_number(outs[i], &msg, p, in);
                break;
            default:
                rv = cnca_validate_mobile(outs[i], &msg, p, in);
        }
    }
    if (rv != APR_SUCCESS) {
        cnca_api_audit(api, event, "invalid", 0, NULL,
                       apr_pstrcat(p, "field=", fields[i - 1], NULL));
        return cnca_api_invalid(api, fields[i - 1], msg);
    }
    id->id_hash = cnca_person_id_hash(p, &api->sc->key_id_hash, id->id_number);
    return OK;
}

static apr_status_t lookup(cnca_person_t **pperson, cnca_api_t *api, const identity_t *id)
{
    cnca_db_t *db;
    apr_status_t rv = cnca_api_db(&db, api);
    if (rv == APR_SUCCESS) {
        rv = cnca_person_find(pperson, db, api->r->pool, id->id_hash);
    }
    return rv;
}

int cnca_step_apply(cnca_api_t *api)
{
    identity_t id;
    cnca_person_t *person = NULL;
    json_t *obj;
    apr_status_t rv;
    int rc;

    if ((rc = read_identity(api, &id, "apply")) != OK || api->responded) {
        return rc;
    }
    rv = lookup(&person, api, &id);
    if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, api->r,
                      "CNCA00030: certificate lookup failed for /apply");
        return cnca_api_fail(api, "lookup_failed", NULL, NULL);
    }
    if (person && person->serial) {
        cnca_api_audit(api, "apply", "has_certificate", person->id, id.id_hash,
                       cnca_api_mobile_detail(api, id.mobile));
        obj = json_object();
        json_object_set_new(obj, "next", json_string("login"));
        return cnca_api_fail(api, "has_certificate", NULL, obj);
    }
    cnca_flow_start(api->sess, CNCA_FLOW_APPLY, id.name, id.id_number, id.mobile);
    cnca_api_audit(api, "apply", "no_certificate", 0, id.id_hash,
                   cnca_api_mobile_detail(api, id.mobile));
    obj = json_object();
    json_object_set_new(obj, "has_certificate", json_false());
    json_object_set_new(obj, "next", json_string("apply-verify"));
    return cnca_api_ok(api, obj);
}

int cnca_step_login(cnca_api_t *api)
{
    identity_t id;
    cnca_person_t *person = NULL;
    json_t *obj;
    apr_status_t rv;
    int rc;

    if ((rc = read_identity(api, &id, "login")) != OK || api->responded) {
        return rc;
    }
    rv = lookup(&person, api, &id);
    if (rv != APR_SUCCESS && rv != APR_NOTFOUND) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, api->r,
                      "CNCA00031: certificate lookup failed for /login");
        return cnca_api_fail(api, "lookup_failed", NULL, NULL);
    }
    /* the name must be the certificate's too; say no more than "no certificate" */
    if (!person || !person->serial || strcmp(person->name, id.name)) {
        cnca_api_audit(api, "login", "no_certificate", 0, id.id_hash,
                       cnca_api_mobile_detail(api, id.mobile));
        obj = json_object();
        json_object_set_new(obj, "next", json_string("apply"));
        return cnca_api_fail(api, "no_certificate", NULL, obj);
    }
    cnca_flow_start(api->sess, CNCA_FLOW_LOGIN, id.name, id.id_number, id.mobile);
    cnca_api_audit(api, "login", "started", person->id, id.id_hash,
                   cnca_api_mobile_detail(api, id.mobile));
    obj = json_object();
    json_object_set_new(obj, "next", json_string("apply-verify"));
    return cnca_api_ok(api, obj);
}
