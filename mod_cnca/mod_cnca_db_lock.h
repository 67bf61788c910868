/* The database write lock of this server (see cnca_db_begin), offered to
 * mod_cnca_sandbox, whose writes go to the same SQLite file. */
#ifndef MOD_CNCA_DB_LOCK_H
#define MOD_CNCA_DB_LOCK_H

#include <apr_optional.h>

/* acquire 1: blocks until held; 0: releases. APR_ENOTIMPL before the
 * lock exists (outside a child). */
APR_DECLARE_OPTIONAL_FN(apr_status_t, cnca_db_write_lock, (int acquire));

#endif
