/* A minimal TAP producer for the core's unit tests; `prove` reads the output.
 * Each test file has one main() that calls plan-less tests and ends with
 * tap_done(), which prints the plan and returns the exit status. */
#ifndef CNCA_TAP_H
#define CNCA_TAP_H

#include <stdio.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>

static int tap_count;
static int tap_failed;

static inline int tap_ok(int cond, const char *file, int line, const char *what)
{
    ++tap_count;
    printf("%sok %d - %s\n", cond ? "" : "not ", tap_count, what);
    if (!cond) {
        ++tap_failed;
        printf("#   Failed at %s line %d\n", file, line);
    }
    fflush(stdout);
    return cond;
}

#define ok(cond, what) tap_ok(!!(cond), __FILE__, __LINE__, (what))
#define is_int(got, want, what)                                                                    \
    do {                                                                                           \
        long long g_ = (long long)(got), w_ = (long long)(want);                                   \
        if (!ok(g_ == w_, what))                                                                   \
            printf("#   got %lld, want %lld\n", g_, w_);                                           \
    } while (0)
#define is_str(got, want, what)                                                                    \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        if (!ok(g_ && w_ && !strcmp(g_, w_), what))                                                \
            printf("#   got '%s', want '%s'\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)");           \
    } while (0)

static inline void tap_diag(const char *msg)
{
    printf("# %s\n", msg);
}

/* Each test gets a fresh pool (mod_md test/unit style). */
static apr_pool_t *tap_root_pool;
static inline apr_pool_t *tap_pool(void)
{
    apr_pool_t *p;
    if (!tap_root_pool) {
        apr_initialize();
        apr_pool_create(&tap_root_pool, NULL);
    }
    apr_pool_create(&p, tap_root_pool);
    return p;
}

static inline int tap_done(void)
{
    printf("1..%d\n", tap_count);
    if (tap_root_pool) {
        apr_pool_destroy(tap_root_pool);
        apr_terminate();
    }
    return tap_failed ? 1 : 0;
}

#endif
