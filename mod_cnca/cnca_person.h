/* Persons (certificate holders) in the database. */
#ifndef CNCA_PERSON_H
#define CNCA_PERSON_H

#include "cnca_crypto.h"
#include "cnca_db.h"

typedef struct {
    apr_int64_t id;
    const char *name;
    const char *mobile; /* the certificate's verified mobile */
    const char *serial; /* the valid certificate's serial, NULL when none */
} cnca_person_t;

/* The keyed hash that finds a person by ID number (never stored in the clear). */
const char *cnca_person_id_hash(apr_pool_t *p, const cnca_key_t *key, const char *id_number);

/* APR_SUCCESS, APR_NOTFOUND, or APR_EGENERAL when the database fails. */
apr_status_t cnca_person_find(cnca_person_t **pperson, cnca_db_t *db, apr_pool_t *p,
                              const char *id_hash);

#endif
