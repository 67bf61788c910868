/* GET /session and POST /logout. */
#include "mod_cnca.h"

#include <apr_strings.h>

#include "cnca_flow.h"

int cnca_step_session(cnca_api_t *api)
{
    cnca_session_t *sess = api->sess;
    json_t *obj = json_object();
    json_t *face = json_null();

    if (sess->face_status) {
        face = json_object();
        json_object_set_new(face, "status", json_string(sess->face_status));
        json_object_set_new(face, "message",
                            sess->face_message ? json_string(sess->face_message) : json_null());
    }
    json_object_set_new(obj, "csrf", json_string(sess->csrf));
    json_object_set_new(obj, "step",
                        json_string(cnca_flow_step(sess, api->now, api->sc->face_max_age)));
    json_object_set_new(obj, "logged_in", json_boolean(sess->person_id > 0));
    json_object_set_new(obj, "sandbox", json_boolean(api->sc->sandbox));
    json_object_set_new(obj, "hotline", json_string(api->sc->hotline));
    json_object_set_new(obj, "flow", sess->flow ? json_string(sess->flow) : json_null());
    json_object_set_new(obj, "mobile", sess->mobile ? json_string(sess->mobile) : json_null());
    json_object_set_new(obj, "face", face);
    return cnca_api_ok(api, obj);
}

int cnca_step_logout(cnca_api_t *api)
{
    json_t *obj = json_object();
    apr_status_t rv;

    if (api->sess->person_id > 0) {
        cnca_api_audit(api, "logout", "ok", api->sess->person_id, NULL, NULL);
    }
    rv = cnca_session_destroy(api->sess, &api->sc->session_ctx, api->r->pool);
    api->sess->dirty = 0;
    if (rv != APR_SUCCESS) {
        json_decref(obj);
        return cnca_api_fail(api, "lookup_failed", NULL, NULL);
    }
    apr_table_add(api->r->err_headers_out, "Set-Cookie",
                  apr_psprintf(api->r->pool, "%s%s=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0%s",
                               api->sc->cookie_secure ? "__Host-" : "", api->sc->cookie_name,
                               api->sc->cookie_secure ? "; Secure" : ""));
    json_object_set_new(obj, "next", json_string("index"));
    return cnca_api_ok(api, obj);
}
