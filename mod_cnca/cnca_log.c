#include <stdarg.h>
#include <stdio.h>

#include <apr_strings.h>

#include "cnca_log.h"

static cnca_log_sink_fn *log_sink;
static void *log_baton;
static cnca_log_level_t log_level = CNCA_LOG_INFO;

void cnca_log_set_sink(cnca_log_sink_fn *sink, void *baton)
{
    log_sink = sink;
    log_baton = baton;
}

void cnca_log_set_level(cnca_log_level_t level)
{
    log_level = level;
}

int cnca_log_is_level(cnca_log_level_t level)
{
    return level <= log_level;
}

void cnca_log_perror(const char *file, int line, cnca_log_level_t level, apr_status_t rv,
                     const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (!cnca_log_is_level(level)) {
        return;
    }
    va_start(ap, fmt);
    apr_vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (log_sink) {
        log_sink(log_baton, file, line, level, rv, msg);
    } else {
        fprintf(stderr, "[cnca:%d] %s:%d %s (%d)\n", level, file, line, msg, rv);
    }
}
