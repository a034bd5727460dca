/* systemd service credentials: files that the service manager copies for
 * one service into $CREDENTIALS_DIRECTORY (LoadCredential=), readable by
 * that service's user even when the originals are root-only. The wg-quick
 * file (mode 0600, owned by root) reaches the unprivileged daemon this way,
 * without widening its permissions. */
#ifndef SPARKMON_CREDENTIAL_H
#define SPARKMON_CREDENTIAL_H

#include <stddef.h>

/* Finds the credential that stands in for the file `path`, by its base
 * name: $CREDENTIALS_DIRECTORY/<base>, then, when dir_id is not NULL,
 * $CREDENTIALS_DIRECTORY/<dir_id>_<base> (the name the shipped unit gives
 * each file, LoadCredential=wireguard_wg0.conf:/etc/wireguard/wg0.conf,
 * and the one systemd gives a file loaded from a whole directory with
 * LoadCredential=<dir_id>:/dir, as older units did). Returns 0
 * with the path in buf; -ENOENT when the variable is unset or empty, or no
 * such credential exists; -ENAMETOOLONG. buf is written only on success. */
int credential_find(const char *path, const char *dir_id, char *buf, size_t size);

#endif
