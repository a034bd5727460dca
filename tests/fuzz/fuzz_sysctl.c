/* The forwarding probe's inputs: /proc/sys/net/ipv4/ip_forward, a
 * sysctl.d(5) file as systemd-sysctl and `sysctl --system` apply it (the
 * input fed whole, then again cut in two files at its first NUL, each with
 * its own readers), and what turns forwarding on beside those files: a
 * Docker daemon.json, a systemd.network file and a PostUp command line. */
#include <stdbool.h>

#include "probes/bootfwd.h"
#include "probes/forwarding.h"
#include "probes/sysctld.h"
#include "tests/fuzz/fuzz.h"

static void results(const struct sysctld *s)
{
	struct sysctld_result r;

	for (int f = SYSCTLD_IPV4; f < SYSCTLD__FAMILIES; f++) {
		sysctld_systemd(s, (enum sysctld_family)f, &r);
		sysctld_procps(s, (enum sysctld_family)f, &r);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	const char *nul = memchr(buf, '\0', size);
	struct sysctld *s = malloc(sizeof(*s));
	struct bootfwd_docker docker;
	char *line;
	bool on;

	if (!s)
		abort();
	forwarding_parse_runtime(buf, size, &on);
	sysctld_init(s);
	sysctld_feed(s, 0, SYSCTLD_SYSTEMD | SYSCTLD_PROCPS, buf, size);
	results(s);
	if (nul) {
		sysctld_init(s);
		sysctld_feed(s, 0, SYSCTLD_SYSTEMD, buf, (size_t)(nul - buf));
		sysctld_feed(s, 1, SYSCTLD_PROCPS, nul + 1, size - (size_t)(nul - buf) - 1);
		results(s);
	}
	free(s);
	bootfwd_parse_docker(buf, size, &docker);
	bootfwd_networkd_sets(buf, size, SYSCTLD_IPV4);
	bootfwd_networkd_sets(buf, size, SYSCTLD_IPV6);
	line = fuzz_string(data, size);
	bootfwd_command_sets(line, SYSCTLD_IPV4);
	bootfwd_command_sets(line, SYSCTLD_IPV6);
	free(line);
	return 0;
}
