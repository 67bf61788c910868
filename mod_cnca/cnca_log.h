/* Logging for the httpd-free core: the glue installs a sink that writes to
 * error_log; unit tests install one that records lines. Every warning and
 * error message starts with its own number, "CNCA00042: ...". */
#ifndef CNCA_LOG_H
#define CNCA_LOG_H

#include <apr_errno.h>

typedef enum {
    CNCA_LOG_ERR = 3,
    CNCA_LOG_WARNING = 4,
    CNCA_LOG_NOTICE = 5,
    CNCA_LOG_INFO = 6,
    CNCA_LOG_DEBUG = 7
} cnca_log_level_t;

typedef void cnca_log_sink_fn(void *baton, const char *file, int line, cnca_log_level_t level,
                              apr_status_t rv, const char *msg);

/* Installs the sink (NULL: lines go to stderr). Called once at start-up. */
void cnca_log_set_sink(cnca_log_sink_fn *sink, void *baton);

/* Levels above this are dropped before formatting. */
void cnca_log_set_level(cnca_log_level_t level);
int cnca_log_is_level(cnca_log_level_t level);

void cnca_log_perror(const char *file, int line, cnca_log_level_t level, apr_status_t rv,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define CNCA_LOG_MARK __FILE__, __LINE__

#endif
