/* `sparkmon serve`: the long-running poll loop. */
#ifndef SPARKMON_SERVE_H
#define SPARKMON_SERVE_H

/* Runs until SIGTERM or SIGINT; SIGHUP reloads the configuration from
 * config_path (NULL = default path). Returns the process exit code. */
int serve_run(const char *config_path);

#endif
