/* Group commit of audit rows: the rows that threads of one process write at
 * the same moment go into the database in one transaction, written by the
 * first of them, and each thread returns once its own row is committed. */
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>

#include "cnca_audit.h"
#include "cnca_log.h"

typedef struct entry {
    const cnca_audit_t *row;
    apr_status_t rv;
    int done;
    struct entry *next;
} entry_t;

struct cnca_audit_queue {
    apr_thread_mutex_t *mutex;
    apr_thread_cond_t *cond;
    entry_t *head, **tail;
    int writing; /* a thread is writing a batch */
};

apr_status_t cnca_audit_queue_create(cnca_audit_queue_t **pq, apr_pool_t *p)
{
    cnca_audit_queue_t *q = apr_pcalloc(p, sizeof(*q));
    apr_status_t rv;

    *pq = NULL;
    if ((rv = apr_thread_mutex_create(&q->mutex, APR_THREAD_MUTEX_DEFAULT, p)) != APR_SUCCESS ||
        (rv = apr_thread_cond_create(&q->cond, p)) != APR_SUCCESS) {
        return rv;
    }
    q->tail = &q->head;
    *pq = q;
    return APR_SUCCESS;
}

/* One row: on its own. More: in one transaction; should that fail, each
 * row on its own, so one bad row takes no other with it. */
static void write_batch(cnca_db_t *db, apr_pool_t *p, entry_t *batch)
{
    apr_status_t rv = APR_EGENERAL;
    entry_t *e;

    if (batch->next && cnca_db_begin(db, p) == APR_SUCCESS) {
        for (e = batch; e && (rv = cnca_audit_write(db, p, e->row)) == APR_SUCCESS; e = e->next) {
        }
        if (rv == APR_SUCCESS) {
            rv = cnca_db_commit(db, p);
        } else {
            cnca_db_rollback(db, p);
        }
    }
    for (e = batch; e; e = e->next) {
        e->rv = rv == APR_SUCCESS ? APR_SUCCESS : cnca_audit_write(db, p, e->row);
    }
}

apr_status_t cnca_audit_queue_write(cnca_audit_queue_t *q, cnca_db_t *db, apr_pool_t *p,
                                    const cnca_audit_t *row)
{
    entry_t me = {row, APR_SUCCESS, 0, NULL};
    apr_pool_t *sub;

    /* in a transaction the row is the transaction's; and waiting for a
     * writer while holding the write lock it needs would deadlock */
    if (!q || db->in_txn) {
        return cnca_audit_write(db, p, row);
    }
    apr_thread_mutex_lock(q->mutex);
    *q->tail = &me;
    q->tail = &me.next;
    while (!me.done) {
        entry_t *batch, *e, *next;
        if (q->writing) {
            apr_thread_cond_wait(q->cond, q->mutex);
            continue;
        }
        /* no one is writing: this thread writes all that is queued */
        batch = q->head;
        q->head = NULL;
        q->tail = &q->head;
        q->writing = 1;
        apr_thread_mutex_unlock(q->mutex);
        apr_pool_create(&sub, p);
        write_batch(db, sub, batch);
        apr_pool_destroy(sub);
        apr_thread_mutex_lock(q->mutex);
        for (e = batch; e; e = next) {
            next = e->next; /* e belongs to a waiting thread: gone once done */
            e->done = 1;
        }
        q->writing = 0;
        apr_thread_cond_broadcast(q->cond);
    }
    apr_thread_mutex_unlock(q->mutex);
    return me.rv;
}
