/* Helpers shared by the unit tests, all static inline (each test uses some):
 * files of the project tree, a log sink that keeps the core's last line,
 * databases through APR DBD as mod_dbd hands them out (open, load an .sql
 * file, prepare statements by label), and a memcached of the test's own.
 * Include after tap.h; the test is linked with APR-util and the core. */
#ifndef CNCA_TESTLIB_H
#define CNCA_TESTLIB_H

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <apr_dbd.h>
#include <apr_file_io.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "tap.h"
#include "cnca_db.h"
#include "cnca_log.h"
#include "cnca_session.h"

/* ---- files of the project ---- */

/* rel (e.g. "sql/schema.sqlite.sql") in the project tree: as it is when the
 * test runs from the project root (make and tools/test.sh do), else two
 * folders above the test program (build/unit/test_NAME). */
static inline const char *testlib_path(apr_pool_t *p, const char *argv0, const char *rel)
{
    char *dir, *slash;

    if (access(rel, R_OK) == 0 || !argv0) {
        return rel;
    }
    dir = apr_pstrdup(p, argv0);
    if ((slash = strrchr(dir, '/')) == NULL) {
        return rel;
    }
    *slash = '\0';
    return apr_pstrcat(p, dir, "/../../", rel, NULL);
}

/* The whole text of a file, or NULL (said in a "# " line) when it cannot be
 * read. */
static inline char *testlib_slurp(apr_pool_t *p, const char *path)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t len;
    char *text;

    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, p) != APR_SUCCESS) {
        printf("#   cannot read %s\n", path);
        return NULL;
    }
    if (apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS) {
        printf("#   cannot read %s\n", path);
        apr_file_close(f);
        return NULL;
    }
    len = (apr_size_t)fi.size;
    text = apr_palloc(p, len + 1);
    apr_file_read_full(f, text, len, &len);
    text[len] = '\0';
    apr_file_close(f);
    return text;
}

/* ---- the core's log lines ---- */

static int testlib_log_lines;       /* how many the core has written */
static char testlib_log_last[1024]; /* the text of the last one */

/* For cnca_log_set_sink(testlib_log_sink, NULL). */
static inline void testlib_log_sink(void *baton, const char *file, int line, cnca_log_level_t level,
                                    apr_status_t rv, const char *msg)
{
    (void)baton, (void)file, (void)line, (void)level, (void)rv;
    ++testlib_log_lines;
    snprintf(testlib_log_last, sizeof(testlib_log_last), "%s", msg);
}

/* Whether the last log line begins with prefix (its fixed part, before
 * what the driver says). */
static inline int testlib_log_starts(const char *prefix)
{
    return !strncmp(testlib_log_last, prefix, strlen(prefix));
}

/* ---- databases through APR DBD ---- */

/* Runs one SQL text with no arguments (a PRAGMA, which answers rows, as a
 * select). 0, or the driver's code with the SQL and the error in "# " lines. */
static inline int testlib_db_run(cnca_db_t *d, apr_pool_t *p, const char *sql)
{
    const char *q = sql + strspn(sql, " \t\r\n");
    int nrows = 0, rc;

    if (!strncasecmp(q, "PRAGMA", 6)) {
        apr_dbd_results_t *res = NULL;
        apr_dbd_row_t *row = NULL;
        rc = apr_dbd_select(d->driver, p, d->handle, &res, q, 0);
        while (rc == 0 && apr_dbd_get_row(d->driver, p, res, &row, -1) == 0)
            ;
    } else {
        rc = apr_dbd_query(d->driver, d->handle, &nrows, q);
    }
    if (rc != 0) {
        printf("#   %s\n#   %s\n", q, apr_dbd_error(d->driver, d->handle, rc));
    }
    return rc;
}

/* Opens a connection with driver "sqlite3" (params: the database file) or
 * "pgsql" (params: a libpq connection string, as DBDParams takes it), with
 * no statements prepared yet. SQLite gets "PRAGMA foreign_keys = ON", as
 * conf/cnca.conf's DBDInitSQL gives it; its busy_timeout is left to the
 * test (a thread waiting in it holds APR DBD's process-wide sqlite3 mutex,
 * so the lock holder cannot commit until the timeout runs out). 1, or 0
 * with the reason in a "# " line. apr_dbd_init must have run. */
static inline int testlib_db_open(cnca_db_t *d, apr_pool_t *p, const char *driver,
                                  const char *params)
{
    const char *err = NULL;

    memset(d, 0, sizeof(*d));
    d->prepared = apr_hash_make(p);
    if (apr_dbd_get_driver(p, driver, &d->driver) != APR_SUCCESS) {
        printf("#   APR DBD has no %s driver\n", driver);
        return 0;
    }
    if (apr_dbd_open_ex(d->driver, p, params, &d->handle, &err) != APR_SUCCESS) {
        printf("#   cannot open %s '%s': %s\n", driver, params, err ? err : "?");
        d->handle = NULL;
        return 0;
    }
    return strcmp(driver, "sqlite3") || testlib_db_run(d, p, "PRAGMA foreign_keys = ON") == 0;
}

/* Loads an SQL file as psql -f and sqlite3 do: PostgreSQL takes the whole
 * text in one query; SQLite one statement at a time, split at each ';'
 * outside quotes and "--" comments (a comment may hold a ';' or a quote).
 * Returns how many statements failed (-1: the file cannot be read);
 * *pcount (may be NULL) gets how many were run. */
static inline int testlib_db_load(cnca_db_t *d, apr_pool_t *p, const char *path, int *pcount)
{
    char *text = testlib_slurp(p, path), *s, *stmt;
    int in_quote = 0, failed = 0, count = 0;

    if (pcount) {
        *pcount = 0;
    }
    if (!text) {
        return -1;
    }
    if (strcmp(apr_dbd_name(d->driver), "sqlite3")) {
        if (pcount) {
            *pcount = 1;
        }
        return testlib_db_run(d, p, text) != 0;
    }
    /* blank out comments, keeping the offsets */
    for (s = text; *s; ++s) {
        if (*s == '\'') {
            in_quote = !in_quote;
        } else if (!in_quote && s[0] == '-' && s[1] == '-') {
            while (*s && *s != '\n') {
                *s++ = ' ';
            }
            if (!*s) {
                break;
            }
        }
    }
    in_quote = 0;
    for (stmt = s = text; *s; ++s) {
        if (*s == '\'') {
            in_quote = !in_quote;
        }
        if (*s == ';' && !in_quote) {
            *s = '\0';
            stmt += strspn(stmt, " \t\r\n");
            if (*stmt) {
                failed += testlib_db_run(d, p, stmt) != 0;
                ++count;
            }
            stmt = s + 1;
        }
    }
    if (pcount) {
        *pcount = count;
    }
    return failed;
}

/* Prepares each statement of list (it ends with a NULL label) into
 * d->prepared, as mod_dbd does at start-up. With tap_prefix, a TAP line
 * for each ("<tap_prefix>statement 'x' prepares"); without, only a "# "
 * line for each that fails. Returns how many did not prepare. */
static inline int testlib_db_prepare(cnca_db_t *d, apr_pool_t *p, const cnca_db_stmt_t *list,
                                     const char *tap_prefix)
{
    const cnca_db_stmt_t *st;
    int failed = 0;

    for (st = list; st->label; ++st) {
        apr_dbd_prepared_t *prep = NULL;
        int rc = apr_dbd_prepare(d->driver, p, d->handle, st->sql, st->label, &prep);
        if (tap_prefix) {
            ok(rc == 0 && prep,
               apr_psprintf(p, "%sstatement '%s' prepares", tap_prefix, st->label));
        }
        if (rc != 0 || !prep) {
            printf("#   %s does not prepare: %s\n", st->label,
                   apr_dbd_error(d->driver, d->handle, rc));
            ++failed;
            continue;
        }
        apr_hash_set(d->prepared, st->label, APR_HASH_KEY_STRING, prep);
    }
    return failed;
}

/* Removes an SQLite database file and the files beside it. */
static inline void testlib_sqlite_remove(apr_pool_t *p, const char *path)
{
    unlink(path);
    unlink(apr_pstrcat(p, path, "-wal", NULL));
    unlink(apr_pstrcat(p, path, "-shm", NULL));
    unlink(apr_pstrcat(p, path, "-journal", NULL));
}

/* ---- a memcached of the test's own ---- */

typedef struct {
    const char *bin;    /* the memcached program (testlib_find_memcached) */
    const char *listen; /* "127.0.0.1" or "::1" */
    int port;           /* 0: a free one, chosen at the first start */
    pid_t pid;          /* while it runs */
    const char *socket; /* a unix socket's path: memcached there (-s, -a 0700),
                         * not on listen and port; NULL: over TCP */
} testlib_mc_t;

/* memcached on PATH or in the usual folders, or NULL. */
static inline const char *testlib_find_memcached(void)
{
    static char found[4096];
    const char *path = getenv("PATH");
    char *dirs =
        apr_pstrcat(tap_pool(), path ? path : "", ":/usr/bin:/usr/sbin:/usr/local/bin", NULL);
    char *dir, *state;

    for (dir = apr_strtok(dirs, ":", &state); dir; dir = apr_strtok(NULL, ":", &state)) {
        snprintf(found, sizeof(found), "%s/memcached", dir);
        if (access(found, X_OK) == 0) {
            return found;
        }
    }
    return NULL;
}

/* host ("127.0.0.1" or "::1") and port in *ss; returns its length. */
static inline socklen_t testlib_addr(struct sockaddr_storage *ss, const char *host, int port)
{
    memset(ss, 0, sizeof(*ss));
    if (!strchr(host, ':')) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        inet_pton(AF_INET, host, &in->sin_addr);
        return sizeof(*in);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        inet_pton(AF_INET6, host, &in6->sin6_addr);
        return sizeof(*in6);
    }
}

/* A TCP port free on the loopback of family (AF_INET or AF_INET6) just
 * now, or 0. */
static inline int testlib_free_port(int family)
{
    struct sockaddr_storage ss;
    socklen_t len = testlib_addr(&ss, family == AF_INET ? "127.0.0.1" : "::1", 0);
    int fd = socket(family, SOCK_STREAM, 0), port = 0;

    if (fd >= 0 && bind(fd, (struct sockaddr *)&ss, len) == 0 &&
        getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
        port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                       : ((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    if (fd >= 0) {
        close(fd);
    }
    return port;
}

/* Whether mc's port (or socket) accepts a connection. */
static inline int testlib_mc_up(const testlib_mc_t *mc)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd, up;

    if (mc->socket) {
        struct sockaddr_un *un = (struct sockaddr_un *)&ss;
        memset(&ss, 0, sizeof(ss));
        un->sun_family = AF_UNIX;
        snprintf(un->sun_path, sizeof(un->sun_path), "%s", mc->socket);
        len = sizeof(*un);
    } else {
        len = testlib_addr(&ss, mc->listen, mc->port);
    }
    fd = socket(ss.ss_family, SOCK_STREAM, 0);
    up = fd >= 0 && connect(fd, (struct sockaddr *)&ss, len) == 0;
    if (fd >= 0) {
        close(fd);
    }
    return up;
}

/* Starts memcached (as nobody when root) on mc->socket, else on
 * mc->listen and mc->port (a free port when 0), and waits up to 5 s until
 * it accepts. 1, or 0 when it did not start. It dies with the test
 * (PR_SET_PDEATHSIG), except when root: its switch to nobody clears that,
 * so the test stops it at exit too. A socket's folder must be nobody's
 * when root. */
static inline int testlib_mc_start(testlib_mc_t *mc)
{
    char port[16];
    int i, status;

    if (!mc->socket && !mc->port &&
        !(mc->port = testlib_free_port(strchr(mc->listen, ':') ? AF_INET6 : AF_INET))) {
        return 0;
    }
    snprintf(port, sizeof(port), "%d", mc->port);
    fflush(stdout);
    mc->pid = fork();
    if (mc->pid < 0) {
        mc->pid = 0;
        return 0;
    }
    if (mc->pid == 0) {
        const char *argv[12];
        int n = 0, devnull = open("/dev/null", O_RDWR);

        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
        }
        argv[n++] = "memcached";
        if (mc->socket) {
            argv[n++] = "-s";
            argv[n++] = mc->socket;
            argv[n++] = "-a";
            argv[n++] = "0700";
        } else {
            argv[n++] = "-l";
            argv[n++] = mc->listen;
            argv[n++] = "-p";
            argv[n++] = port;
            argv[n++] = "-U";
            argv[n++] = "0";
        }
        argv[n++] = "-m";
        argv[n++] = "16";
        if (geteuid() == 0) {
            argv[n++] = "-u";
            argv[n++] = "nobody";
        }
        argv[n] = NULL;
        execv(mc->bin, (char *const *)argv);
        _exit(127);
    }
    for (i = 0; i < 250; ++i) { /* 5 s */
        if (testlib_mc_up(mc)) {
            return 1;
        }
        if (waitpid(mc->pid, &status, WNOHANG) == mc->pid) {
            mc->pid = 0;
            return 0;
        }
        apr_sleep(apr_time_from_msec(20));
    }
    return 0;
}

/* Stops mc with sig (SIGKILL: memcached's graceful SIGTERM shutdown takes
 * most of a second) and reaps it, SIGCONT first in case the test stopped
 * it (SIGSTOP). */
static inline void testlib_mc_stop(testlib_mc_t *mc, int sig)
{
    if (mc->pid > 0) {
        kill(mc->pid, SIGCONT);
        kill(mc->pid, sig);
        waitpid(mc->pid, NULL, 0);
        mc->pid = 0;
    }
}

/* ---- sessions ---- */

/* A new session created at now; bails out when there is none. */
static inline cnca_session_t *testlib_session(apr_pool_t *p, apr_int64_t now)
{
    cnca_session_t *sess = NULL;

    if (cnca_session_create(&sess, p, now) != APR_SUCCESS || !sess) {
        printf("Bail out! cnca_session_create failed\n");
        exit(1);
    }
    return sess;
}

#endif
