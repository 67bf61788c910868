#include <string.h>

#include <apr_strings.h>

#include "cnca_person.h"

const char *cnca_person_id_hash(apr_pool_t *p, const cnca_key_t *key, const char *id_number)
{
    return cnca_hmac_hex(p, key->bytes, CNCA_KEY_LEN, id_number, strlen(id_number));
}

apr_status_t cnca_person_find(cnca_person_t **pperson, cnca_db_t *db, apr_pool_t *p,
                              const char *id_hash)
{
    apr_array_header_t *rows;
    const char **row;
    cnca_person_t *person;
    apr_status_t rv;

    *pperson = NULL;
    if ((rv = cnca_db_select(db, p, &rows, NULL, "person_by_id_hash", 1, id_hash)) != APR_SUCCESS) {
        return rv;
    }
    if (rows->nelts == 0) {
        return APR_NOTFOUND;
    }
    row = CNCA_DB_ROW(rows, 0);
    person = apr_pcalloc(p, sizeof(*person));
    person->id = apr_atoi64(row[0]);
    person->name = row[1];
    person->mobile = row[2];
    person->serial = row[3];
    *pperson = person;
    return APR_SUCCESS;
}
