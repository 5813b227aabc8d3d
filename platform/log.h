/*
 * log.h -- one line per event on stderr:
 *
 *     2026-11-29T09:10:25Z warn node: broker refused credentials rc=5
 *
 * level, module, a message, then key=value pairs written by the caller.
 * Lines below the threshold (log_set_level) are dropped.  Nothing secret is
 * ever passed here: callers mask passwords and the mesh UUID.
 */
#ifndef DMQTT_LOG_H
#define DMQTT_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* "error", "warn"/"warning", "info", "debug" (any case) -> level; -1 if unknown */
int log_parse_level(const char *name);
void log_msg(enum log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_error(mod, ...) log_msg(LOG_ERROR, mod, __VA_ARGS__)
#define log_warn(mod, ...)  log_msg(LOG_WARN, mod, __VA_ARGS__)
#define log_info(mod, ...)  log_msg(LOG_INFO, mod, __VA_ARGS__)
#define log_debug(mod, ...) do { if (log_get_level() >= LOG_DEBUG) \
	log_msg(LOG_DEBUG, mod, __VA_ARGS__); } while (0)

#endif
