#include "monitor/wgdump.h"

#include <arpa/inet.h>
#include <inttypes.h>

static void print_peer(const char *ifname, const struct wireguard_peer *p, FILE *out)
{
	char ip[INET6_ADDRSTRLEN + 8];

	fprintf(out, "%s\t%s\t(hidden)\t%s\t", ifname, p->public_key,
	        p->endpoint_text[0] ? p->endpoint_text : "(none)");
	if (p->n_allowed_ips == 0)
		fputs("(none)", out);
	for (size_t i = 0; i < p->n_allowed_ips; i++) {
		wireguard_format_ip(&p->allowed_ips[i], ip, sizeof(ip));
		fprintf(out, "%s%s", i ? "," : "", ip);
	}
	fprintf(out, "\t%" PRId64 "\t%" PRIu64 "\t%" PRIu64 "\t", p->last_handshake, p->rx_bytes,
	        p->tx_bytes);
	if (p->persistent_keepalive)
		fprintf(out, "%u\n", p->persistent_keepalive);
	else
		fputs("off\n", out);
}

size_t wgdump_print(const struct wireguard *wg, FILE *out, FILE *err)
{
	size_t failed = 0;

	for (size_t i = 0; i < wg->n_devices; i++) {
		const struct wireguard_device *d = &wg->devices[i];

		if (d->error || d->backend == WIREGUARD_BACKEND_NONE) {
			fprintf(err, "sparkmon wireguard: %s: %s\n", d->name,
			        d->error_text[0] ? d->error_text : "not read");
			failed++;
			continue;
		}
		fprintf(out, "%s\t(hidden)\t%s\t%u\t", d->name,
		        d->has_public_key ? d->public_key : "(none)", d->listen_port);
		if (d->fwmark)
			fprintf(out, "0x%x\n", d->fwmark);
		else
			fputs("off\n", out);
		for (size_t j = 0; j < d->n_peers; j++)
			print_peer(d->name, &d->peers[j], out);
	}
	return failed;
}
