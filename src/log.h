/* log: one logfmt line per event on stderr.
 *
 * Lines are written with a single write(2) so that the threads of one
 * process and the processes under spawn-fcgi -F never interleave them.
 * Callers never pass the API key: no function here could hide it. */
#ifndef LOG_H
#define LOG_H

#include "config.h"

void log_set_level(int level); /* a CONFIG_LOG_* value */
int log_enabled(int level);
void log_line(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_line(CONFIG_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_line(CONFIG_LOG_WARN, __VA_ARGS__)
#define log_info(...) log_line(CONFIG_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_line(CONFIG_LOG_DEBUG, __VA_ARGS__)

#endif
