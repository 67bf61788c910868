/* Gateway messages: the five types and their fields, the schema, building
 * requests and answers with libxml2, reading them back (well-formed, no
 * DTD, schema-valid, the right root, the right id). */
#include <limits.h>
#include <string.h>

#include <apr_file_info.h>
#include <apr_strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlstring.h>

#include "cnca_crypto.h"
#include "cnca_gateway.h"
#include "cnca_log.h"

struct cnca_gw_schema {
    xmlSchemaPtr xsd;
};

typedef struct {
    const char *type;
    const char *const *takes;   /* request fields, all required */
    const char *const *returns; /* fields a pass answer carries, all required */
} gw_type_t;

static const char *const takes_mobile_3e[] = {"name", "id-number", "mobile", NULL};
static const char *const takes_bankcard_4e[] = {"name", "id-number", "bank-card", "mobile", NULL};
static const char *const takes_sms_send[] = {"mobile", "text", NULL};
static const char *const takes_face_start[] = {"name", "id-number", "return-url", NULL};
static const char *const takes_face_result[] = {"token", NULL};
static const char *const returns_nothing[] = {NULL};
static const char *const returns_face_start[] = {"token", "url", NULL};
static const char *const returns_face_result[] = {"name", "id-number", "score", NULL};

static const gw_type_t gw_types[] = {
    {CNCA_GW_MOBILE_3E, takes_mobile_3e, returns_nothing},
    {CNCA_GW_BANKCARD_4E, takes_bankcard_4e, returns_nothing},
    {CNCA_GW_SMS_SEND, takes_sms_send, returns_nothing},
    {CNCA_GW_FACE_START, takes_face_start, returns_face_start},
    {CNCA_GW_FACE_RESULT, takes_face_result, returns_face_result},
};

/* Every field an answer may carry (the response column of API.md). */
static const char *const response_fields[] = {"token", "url", "name", "id-number", "score", NULL};

static const char *const result_names[] = {"pass", "fail", "error"};

/* The first error libxml2 reports during one parse or validation. */
typedef struct {
    apr_pool_t *p;
    const char *first;
    int redact; /* validation: name the node, never quote the value */
} gw_errors_t;

static const gw_type_t *type_find(const char *type)
{
    apr_size_t i;

    for (i = 0; type && i < sizeof(gw_types) / sizeof(gw_types[0]); ++i) {
        if (!strcmp(gw_types[i].type, type)) {
            return &gw_types[i];
        }
    }
    return NULL;
}

static int name_in(const char *name, const char *const *names)
{
    for (; *names; ++names) {
        if (!strcmp(*names, name)) {
            return 1;
        }
    }
    return 0;
}

const char *cnca_gw_result_name(cnca_gw_result_t result)
{
    return (result >= CNCA_GW_PASS && result <= CNCA_GW_ERROR) ? result_names[result] : "error";
}

int cnca_gw_type_known(const char *type)
{
    return type_find(type) != NULL;
}

/* libxml2's message without its trailing newline. */
static const char *error_text(apr_pool_t *p, const xmlError *err)
{
    const char *msg = err && err->message ? err->message : "unknown error";
    apr_size_t len = strlen(msg);

    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' ')) {
        --len;
    }
    return apr_pstrndup(p, msg, len);
}

static void collect_error(void *baton, xmlErrorPtr err)
{
    gw_errors_t *e = baton;
    const xmlNode *node;

    if (e->first || !err || err->level == XML_ERR_WARNING) {
        return;
    }
    node = err->node;
    if (e->redact) {
        /* Validity messages quote the offending value (an ID number, a
         * name): say where, not what. libxml2 names an attribute only in
         * its message: "Element '...', attribute 'NAME': ...". */
        const char *a = err->message ? strstr(err->message, ", attribute '") : NULL;
        const char *where = node && node->name ? (const char *)node->name : "?";
        if (a) {
            a += strlen(", attribute '");
            e->first = apr_psprintf(e->p,
                                    "attribute '%.*s' of element '%s' at line %d is not "
                                    "valid (libxml2 error %d)",
                                    (int)strcspn(a, "'"), a, where, err->line, err->code);
        } else {
            e->first = apr_psprintf(e->p, "element '%s' at line %d is not valid (libxml2 error %d)",
                                    where, err->line, err->code);
        }
    } else {
        e->first = apr_psprintf(e->p, "line %d: %s", err->line, error_text(e->p, err));
    }
}

static apr_status_t schema_cleanup(void *data)
{
    cnca_gw_schema_t *s = data;

    if (s->xsd) {
        xmlSchemaFree(s->xsd);
        s->xsd = NULL;
    }
    return APR_SUCCESS;
}

apr_status_t cnca_gw_schema_load(cnca_gw_schema_t **ps, apr_pool_t *p, const char *xsd_path)
{
    xmlSchemaParserCtxtPtr pctxt = NULL;
    gw_errors_t errs = {p, NULL, 0};
    cnca_gw_schema_t *s;
    apr_finfo_t finfo;
    apr_status_t rv;

    *ps = NULL;
    /* A missing file would otherwise surface as libxml2's own stderr lines. */
    rv = apr_stat(&finfo, xsd_path, APR_FINFO_TYPE, p);
    if (rv == APR_SUCCESS && finfo.filetype != APR_REG) {
        rv = APR_EINVAL;
    }
    if (rv != APR_SUCCESS) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, rv, "CNCA00501: cannot read gateway schema %s",
                        xsd_path);
        goto leave;
    }
    pctxt = xmlSchemaNewParserCtxt(xsd_path);
    if (!pctxt) {
        rv = APR_ENOMEM;
        goto leave;
    }
    xmlSchemaSetParserStructuredErrors(pctxt, collect_error, &errs);
    s = apr_pcalloc(p, sizeof(*s));
    s->xsd = xmlSchemaParse(pctxt);
    if (!s->xsd) {
        rv = APR_EGENERAL;
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, rv,
                        "CNCA00502: gateway schema %s is not a valid XML Schema: %s", xsd_path,
                        errs.first ? errs.first : "unknown error");
        goto leave;
    }
    apr_pool_cleanup_register(p, s, schema_cleanup, apr_pool_cleanup_null);
    *ps = s;
leave:
    if (pctxt) {
        xmlSchemaFreeParserCtxt(pctxt);
    }
    return rv;
}

/* Random UUID version 4, lowercase. */
static apr_status_t make_uuid(const char **pid, apr_pool_t *p)
{
    unsigned char b[16];
    apr_status_t rv;

    rv = cnca_random(b, sizeof(b));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    *pid = apr_psprintf(p,
                        "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                        "%02x%02x%02x%02x%02x%02x",
                        b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
                        b[12], b[13], b[14], b[15]);
    return APR_SUCCESS;
}

/* Valid UTF-8 and no control character but tab, CR and LF (XML 1.0 cannot
 * carry the others). */
static int value_ok(const char *v)
{
    const unsigned char *s;

    if (!v || !xmlCheckUTF8((const xmlChar *)v)) {
        return 0;
    }
    for (s = (const unsigned char *)v; *s; ++s) {
        if ((*s < 0x20 && *s != '\t' && *s != '\n' && *s != '\r') || *s == 0x7f) {
            return 0;
        }
    }
    return 1;
}

static apr_status_t doc_new(xmlDocPtr *pdoc, xmlNodePtr *proot, xmlNsPtr *pns, const char *name)
{
    xmlDocPtr doc;
    xmlNodePtr root;
    xmlNsPtr ns;

    *pdoc = NULL;
    doc = xmlNewDoc(BAD_CAST "1.0");
    if (!doc) {
        return APR_ENOMEM;
    }
    root = xmlNewDocNode(doc, NULL, BAD_CAST name, NULL);
    if (!root) {
        xmlFreeDoc(doc);
        return APR_ENOMEM;
    }
    xmlDocSetRootElement(doc, root);
    ns = xmlNewNs(root, BAD_CAST CNCA_GW_NS, NULL);
    if (!ns) {
        xmlFreeDoc(doc);
        return APR_ENOMEM;
    }
    xmlSetNs(root, ns);
    *pdoc = doc;
    *proot = root;
    *pns = ns;
    return APR_SUCCESS;
}

/* Appends the kv fields; each must be in `allowed`, once. *pbad names what
 * is wrong. */
static apr_status_t add_fields(const char **pbad, apr_pool_t *p, xmlNodePtr root, xmlNsPtr ns,
                               const char *const *kv, const char *const *allowed)
{
    apr_table_t *seen = apr_table_make(p, 8);

    for (; kv && kv[0]; kv += 2) {
        if (!name_in(kv[0], allowed)) {
            *pbad = apr_psprintf(p, "field %s is not allowed here", kv[0]);
            return APR_EINVAL;
        }
        if (apr_table_get(seen, kv[0])) {
            *pbad = apr_psprintf(p, "field %s given twice", kv[0]);
            return APR_EINVAL;
        }
        if (!value_ok(kv[1])) {
            *pbad =
                apr_psprintf(p, "field %s is missing, not UTF-8 or has control characters", kv[0]);
            return APR_EINVAL;
        }
        apr_table_setn(seen, kv[0], "");
        if (!xmlNewTextChild(root, ns, BAD_CAST kv[0], BAD_CAST kv[1])) {
            return APR_ENOMEM;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t serialize(const char **pxml, apr_pool_t *p, xmlDocPtr doc)
{
    xmlChar *mem = NULL;
    int size = 0;

    xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
    if (!mem) {
        return APR_ENOMEM;
    }
    *pxml = apr_pstrndup(p, (const char *)mem, (apr_size_t)size);
    xmlFree(mem);
    return APR_SUCCESS;
}

apr_status_t cnca_gw_build_request(const char **pxml, const char **pid, apr_pool_t *p,
                                   const char *type, const char *const *kv)
{
    const gw_type_t *t = type_find(type);
    const char *bad = NULL, *id = NULL;
    const char *const *want;
    const char *const *f;
    xmlDocPtr doc = NULL;
    xmlNodePtr root;
    xmlNsPtr ns;
    apr_status_t rv;

    *pxml = NULL;
    *pid = NULL;
    if (!t) {
        rv = APR_EINVAL;
        bad = "unknown type";
        goto leave;
    }
    for (want = t->takes; *want; ++want) {
        for (f = kv; f && f[0] && strcmp(f[0], *want); f += 2) {
        }
        if (!f || !f[0]) {
            rv = APR_EINVAL;
            bad = apr_psprintf(p, "field %s is missing", *want);
            goto leave;
        }
    }
    rv = make_uuid(&id, p);
    if (rv != APR_SUCCESS) {
        bad = "no random id";
        goto leave;
    }
    rv = doc_new(&doc, &root, &ns, CNCA_GW_REQUEST);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    if (!xmlNewProp(root, BAD_CAST "id", BAD_CAST id) ||
        !xmlNewProp(root, BAD_CAST "type", BAD_CAST t->type)) {
        rv = APR_ENOMEM;
        goto leave;
    }
    rv = add_fields(&bad, p, root, ns, kv, t->takes);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    rv = serialize(pxml, p, doc);
    if (rv == APR_SUCCESS) {
        *pid = id;
    }
leave:
    if (rv != APR_SUCCESS) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, rv,
                        "CNCA00503: cannot build gateway request %s: %s", type ? type : "(null)",
                        bad ? bad : "out of memory");
    }
    if (doc) {
        xmlFreeDoc(doc);
    }
    return rv;
}

apr_status_t cnca_gw_build_response(const char **pxml, apr_pool_t *p, const char *id,
                                    cnca_gw_result_t result, const char *reason_code,
                                    const char *reason_text, const char *const *kv)
{
    const char *bad = NULL;
    xmlDocPtr doc = NULL;
    xmlNodePtr root, reason;
    xmlNsPtr ns;
    apr_status_t rv;

    *pxml = NULL;
    if (!id || !value_ok(id) || result < CNCA_GW_PASS || result > CNCA_GW_ERROR) {
        rv = APR_EINVAL;
        bad = "bad id or result";
        goto leave;
    }
    if (result != CNCA_GW_PASS && (!value_ok(reason_code) || !value_ok(reason_text))) {
        rv = APR_EINVAL;
        bad = "a fail or error answer needs a reason";
        goto leave;
    }
    rv = doc_new(&doc, &root, &ns, CNCA_GW_RESPONSE);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    if (!xmlNewProp(root, BAD_CAST "id", BAD_CAST id) ||
        !xmlNewProp(root, BAD_CAST "result", BAD_CAST result_names[result])) {
        rv = APR_ENOMEM;
        goto leave;
    }
    if (result != CNCA_GW_PASS) {
        reason = xmlNewTextChild(root, ns, BAD_CAST "reason", BAD_CAST reason_text);
        if (!reason || !xmlNewProp(reason, BAD_CAST "code", BAD_CAST reason_code)) {
            rv = APR_ENOMEM;
            goto leave;
        }
    }
    rv = add_fields(&bad, p, root, ns, kv, response_fields);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    rv = serialize(pxml, p, doc);
leave:
    if (rv != APR_SUCCESS) {
        cnca_log_perror(CNCA_LOG_MARK, CNCA_LOG_ERR, rv,
                        "CNCA00504: cannot build gateway response: %s",
                        bad ? bad : "out of memory");
    }
    if (doc) {
        xmlFreeDoc(doc);
    }
    return rv;
}

/* Parses and validates one message whose root must be root_name. */
static apr_status_t read_doc(xmlDocPtr *pdoc, const char **pcause, apr_pool_t *p, const char *xml,
                             apr_size_t len, cnca_gw_schema_t *schema, const char *root_name)
{
    xmlParserCtxtPtr ctxt = NULL;
    xmlSchemaValidCtxtPtr vctxt = NULL;
    xmlDocPtr doc = NULL;
    xmlNodePtr root;
    gw_errors_t errs = {p, NULL, 1};
    apr_status_t rv = APR_EGENERAL;

    *pdoc = NULL;
    if (!schema || !schema->xsd) {
        *pcause = "no schema";
        goto leave;
    }
    if (!xml || len == 0) {
        *pcause = "empty body";
        goto leave;
    }
    if (len > CNCA_GW_MAX_BODY || len > INT_MAX) {
        *pcause = apr_psprintf(p, "body larger than %d bytes", CNCA_GW_MAX_BODY);
        goto leave;
    }
    ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        rv = APR_ENOMEM;
        *pcause = "out of memory";
        goto leave;
    }
    /* No network, no entity substitution, errors kept in ctxt->lastError
     * instead of printed. */
    doc = xmlCtxtReadMemory(ctxt, xml, (int)len, NULL, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc || !ctxt->wellFormed) {
        *pcause = apr_psprintf(p, "not well-formed XML: line %d: %s", ctxt->lastError.line,
                               error_text(p, &ctxt->lastError));
        goto leave;
    }
    if (doc->intSubset || doc->extSubset) {
        *pcause = "a DTD is not allowed";
        goto leave;
    }
    root = xmlDocGetRootElement(doc);
    if (!root || !root->ns || !root->ns->href || strcmp((const char *)root->ns->href, CNCA_GW_NS)) {
        *pcause = "root element is not in namespace " CNCA_GW_NS;
        goto leave;
    }
    if (strcmp((const char *)root->name, root_name)) {
        *pcause =
            apr_psprintf(p, "root element is %.40s, not %s", (const char *)root->name, root_name);
        goto leave;
    }
    vctxt = xmlSchemaNewValidCtxt(schema->xsd);
    if (!vctxt) {
        rv = APR_ENOMEM;
        *pcause = "out of memory";
        goto leave;
    }
    xmlSchemaSetValidStructuredErrors(vctxt, collect_error, &errs);
    if (xmlSchemaValidateDoc(vctxt, doc) != 0) {
        *pcause = apr_psprintf(p, "does not validate against the gateway schema: %s",
                               errs.first ? errs.first : "unknown error");
        goto leave;
    }
    *pdoc = doc;
    doc = NULL;
    rv = APR_SUCCESS;
leave:
    if (vctxt) {
        xmlSchemaFreeValidCtxt(vctxt);
    }
    if (doc) {
        xmlFreeDoc(doc);
    }
    if (ctxt) {
        xmlFreeParserCtxt(ctxt);
    }
    return rv;
}

static const char *attr(apr_pool_t *p, xmlNodePtr node, const char *name)
{
    xmlChar *v = xmlGetNoNsProp(node, BAD_CAST name);
    const char *s = v ? apr_pstrdup(p, (const char *)v) : NULL;

    xmlFree(v);
    return s;
}

static const char *content(apr_pool_t *p, xmlNodePtr node)
{
    xmlChar *v = xmlNodeGetContent(node);
    const char *s = apr_pstrdup(p, v ? (const char *)v : "");

    xmlFree(v);
    return s;
}

/* The field elements of root into a table; the reason element (answers
 * only) into *preason. */
static apr_table_t *read_fields(apr_pool_t *p, xmlNodePtr root, xmlNodePtr *preason)
{
    apr_table_t *fields = apr_table_make(p, 8);
    xmlNodePtr n;

    for (n = root->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE) {
            continue;
        }
        if (preason && !strcmp((const char *)n->name, "reason")) {
            *preason = n;
            continue;
        }
        apr_table_set(fields, (const char *)n->name, content(p, n));
    }
    return fields;
}

apr_status_t cnca_gw_parse_request(cnca_gw_request_t **preq, const char **pcause, apr_pool_t *p,
                                   const char *xml, apr_size_t len, cnca_gw_schema_t *schema)
{
    cnca_gw_request_t *req;
    const gw_type_t *t;
    const apr_array_header_t *arr;
    const apr_table_entry_t *e;
    const char *const *want;
    xmlDocPtr doc = NULL;
    xmlNodePtr root;
    apr_status_t rv;
    int i;

    *preq = NULL;
    *pcause = NULL;
    rv = read_doc(&doc, pcause, p, xml, len, schema, CNCA_GW_REQUEST);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    root = xmlDocGetRootElement(doc);
    req = apr_pcalloc(p, sizeof(*req));
    req->id = attr(p, root, "id");
    req->type = attr(p, root, "type");
    req->fields = read_fields(p, root, NULL);
    rv = APR_EGENERAL;
    t = type_find(req->type);
    if (!t || !req->id) {
        *pcause = "no id or unknown type";
        goto leave;
    }
    for (want = t->takes; *want; ++want) {
        if (!apr_table_get(req->fields, *want)) {
            *pcause = apr_psprintf(p, "%s request without %s", t->type, *want);
            goto leave;
        }
    }
    arr = apr_table_elts(req->fields);
    e = (const apr_table_entry_t *)arr->elts;
    for (i = 0; i < arr->nelts; ++i) {
        if (!name_in(e[i].key, t->takes)) {
            *pcause = apr_psprintf(p, "%s request with %s", t->type, e[i].key);
            goto leave;
        }
    }
    *preq = req;
    rv = APR_SUCCESS;
leave:
    if (doc) {
        xmlFreeDoc(doc);
    }
    return rv;
}

apr_status_t cnca_gw_parse_response(cnca_gw_response_t **presp, const char **pcause, apr_pool_t *p,
                                    const char *xml, apr_size_t len, const char *expect_id,
                                    cnca_gw_schema_t *schema)
{
    cnca_gw_response_t *resp;
    const char *result;
    xmlDocPtr doc = NULL;
    xmlNodePtr root, reason = NULL;
    apr_status_t rv;

    *presp = NULL;
    *pcause = NULL;
    rv = read_doc(&doc, pcause, p, xml, len, schema, CNCA_GW_RESPONSE);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    root = xmlDocGetRootElement(doc);
    resp = apr_pcalloc(p, sizeof(*resp));
    resp->id = attr(p, root, "id");
    result = attr(p, root, "result");
    resp->fields = read_fields(p, root, &reason);
    rv = APR_EGENERAL;
    if (!resp->id || (expect_id && strcmp(resp->id, expect_id))) {
        *pcause = "the answer is for another request id";
        goto leave;
    }
    if (result && !strcmp(result, "pass")) {
        resp->result = CNCA_GW_PASS;
    } else if (result && !strcmp(result, "fail")) {
        resp->result = CNCA_GW_FAIL;
    } else if (result && !strcmp(result, "error")) {
        resp->result = CNCA_GW_ERROR;
    } else {
        *pcause = "unknown result";
        goto leave;
    }
    if (resp->result != CNCA_GW_PASS) {
        if (!reason) {
            *pcause = apr_psprintf(p, "a %s answer without a reason", result);
            goto leave;
        }
        resp->reason_code = attr(p, reason, "code");
        resp->reason_text = content(p, reason);
    }
    *presp = resp;
    rv = APR_SUCCESS;
leave:
    if (doc) {
        xmlFreeDoc(doc);
    }
    return rv;
}

apr_status_t cnca_gw_check_response(const char **pcause, apr_pool_t *p, const char *type,
                                    const cnca_gw_response_t *resp)
{
    const gw_type_t *t = type_find(type);
    const char *const *want;

    *pcause = NULL;
    if (!t) {
        *pcause = "unknown type";
        return APR_EINVAL;
    }
    if (resp->result != CNCA_GW_PASS) {
        return APR_SUCCESS;
    }
    for (want = t->returns; *want; ++want) {
        const char *v = apr_table_get(resp->fields, *want);
        if (!v || !*v) {
            *pcause = apr_psprintf(p, "a pass answer to %s without %s", t->type, *want);
            return APR_EGENERAL;
        }
    }
    return APR_SUCCESS;
}
