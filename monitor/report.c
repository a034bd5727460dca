#include "monitor/report.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "monitor/check.h"
#include "monitor/fwcheck.h"
#include "monitor/human.h"
#include "monitor/probetab.h"
#include "monitor/routercheck.h"
#include "monitor/sshcheck.h"

static void print_checks(const struct verdict *v, FILE *out)
{
	char text[CHECK_TEXT_MAX];

	fputs("Checks\n", out);
	if (v->count == 0)
		fputs("  (none)\n", out);
	for (size_t i = 0; i < v->count; i++) {
		const struct check *c = &v->checks[i];

		check_sanitize(c->summary, text, sizeof(text));
		fprintf(out, "  %-8s  %-24s %s\n", verdict_status_upper(c->status), c->id, text);
		if (c->hint[0]) {
			check_sanitize(c->hint, text, sizeof(text));
			fprintf(out, "  %-8s  %-24s fix: %s\n", "", "", text);
		}
		/* The commands that fix it now, one per line, to copy. */
		for (size_t j = 0; j < c->n_fix; j++) {
			check_sanitize(c->fix[j], text, sizeof(text));
			fprintf(out, "  %-8s  %-24s run: %s\n", "", "", text);
		}
	}
}

static bool area_ok(const struct snapshot *snap, enum probe_id id, FILE *out)
{
	const struct probe_outcome *p = &snap->probes[id];

	if (p->status == PROBE_OK)
		return true;
	fprintf(out, "  (%s%s%s)\n", snapshot_probe_status_name(p->status), p->error[0] ? ": " : "",
	        p->error);
	return false;
}

/* The same columns as free -h. */
static void print_memory(const struct snapshot *snap, FILE *out)
{
	const struct meminfo *m = &snap->memory;
	char total[16], used[16], freeb[16], cache[16], avail[16], stotal[16], sused[16], sfree[16];

	fputs("\nMemory\n", out);
	if (!area_ok(snap, PROBE_MEMORY, out))
		return;
	human_bytes(m->total, total, sizeof(total));
	human_bytes(m->used, used, sizeof(used));
	human_bytes(m->free, freeb, sizeof(freeb));
	human_bytes(m->buff_cache, cache, sizeof(cache));
	human_bytes(m->available, avail, sizeof(avail));
	human_bytes(m->swap_total, stotal, sizeof(stotal));
	human_bytes(m->swap_total - m->swap_free, sused, sizeof(sused));
	human_bytes(m->swap_free, sfree, sizeof(sfree));
	fprintf(out, "  %-6s %11s %11s %11s %11s %11s\n", "", "total", "used", "free", "buff/cache",
	        "available");
	fprintf(out, "  %-6s %11s %11s %11s %11s %11s\n", "Mem:", total, used, freeb, cache, avail);
	fprintf(out, "  %-6s %11s %11s %11s\n", "Swap:", stotal, sused, sfree);
}

/* The sysctl files in systemd-sysctl's order, then the services after it. */
static void print_boot(FILE *out, const char *label, const struct forwarding_boot *b,
                       unsigned files_read)
{
	if (b->value < 0)
		fprintf(out, "  %s not set by any of %u sysctl files (off)\n", label, files_read);
	else
		fprintf(out, "  %s %d, from %s:%d\n", label, b->value, b->file, b->line);
	if (b->service != FORWARDING_BY_NONE)
		fprintf(out, "  %*s then turned on by %s (%s)\n", (int)strlen(label), "",
		        forwarding_service_name(b->service), b->service_unit);
}

static void print_forwarding(const struct snapshot *snap, FILE *out)
{
	const struct forwarding *f = &snap->forwarding;

	fputs("\nForwarding\n", out);
	if (!area_ok(snap, PROBE_FORWARDING, out))
		return;
	fprintf(out, "  net.ipv4.ip_forward now:      %s\n", f->ipv4 ? "1 (on)" : "0 (off)");
	print_boot(out, "net.ipv4.ip_forward at boot: ", &f->boot4, f->files_read);
	if (!f->ipv6_carried)
		return;
	if (f->ipv6_error[0])
		fprintf(out, "  IPv6 forwarding now:          %s\n", f->ipv6_error);
	else
		fprintf(out, "  IPv6 forwarding now:          %s\n",
		        f->ipv6 ? "1 (on)" : "0 (off)");
	print_boot(out, "IPv6 forwarding at boot:     ", &f->boot6, f->files_read);
}

/* A cell of the GPU table: the value with its unit, or N/A as nvidia-smi
 * prints it. */
static void gpu_cell(bool has, double v, const char *unit, char *buf, size_t size)
{
	if (has)
		snprintf(buf, size, "%.0f%s", v, unit);
	else
		snprintf(buf, size, "N/A");
}

static void gpu_pair(bool has_a, double a, bool has_b, double b, const char *unit, char *buf,
                     size_t size)
{
	char x[24], y[24];

	gpu_cell(has_a, a, unit, x, sizeof(x));
	gpu_cell(has_b, b, unit, y, sizeof(y));
	snprintf(buf, size, "%s / %s", x, y);
}

static void print_gpu_processes(const struct gpu *g, FILE *out)
{
	const struct gpu_processes *list = &g->processes;
	char mem[32], gpu[16];

	if (!g->processes_valid) {
		fprintf(out, "  Processes: not read (%s)\n", g->processes_error);
		return;
	}
	if (list->total == 0) {
		fputs("  Processes: none\n", out);
		return;
	}
	fprintf(out, "  Processes (%u of %u, most memory first)\n", list->count, list->total);
	fprintf(out, "  %3s %8s %10s  %s\n", "GPU", "PID", "Memory", "Name");
	for (unsigned i = 0; i < list->count; i++) {
		const struct gpu_process *p = &list->top[i];

		gpu_cell(p->has_used_memory, (double)(p->used_memory_bytes >> 20), "MiB", mem,
		         sizeof(mem));
		if (p->gpu_index >= 0)
			snprintf(gpu, sizeof(gpu), "%d", p->gpu_index);
		else
			snprintf(gpu, sizeof(gpu), "?");
		fprintf(out, "  %3s %8u %10s  %s\n", gpu, p->pid, mem, p->name);
	}
}

/* Like a compact nvidia-smi: one line per GPU, then the processes. */
static void print_gpu(const struct snapshot *snap, FILE *out)
{
	const struct gpu *g = &snap->gpu;
	char temp[32], util[32], mutil[32], mem[64], power[64], clock[32];
	char total[16], used[16];

	fputs("\nGPU\n", out);
	if (!area_ok(snap, PROBE_GPU, out))
		return;
	if (g->total == 0) {
		fputs("  nvidia-smi reports no GPU\n", out);
		return;
	}
	fprintf(out, "  Driver %s\n",
	        g->devices[0].driver_version[0] ? g->devices[0].driver_version : "N/A");
	fprintf(out, "  %3s  %-24s %5s %5s %7s  %-21s %-15s %8s %4s\n", "GPU", "Name", "Temp",
	        "Util", "MemUtil", "Memory", "Power", "SM clock", "Perf");
	for (unsigned i = 0; i < g->count; i++) {
		const struct gpu_device *d = &g->devices[i];

		gpu_cell(d->has_temperature, d->temperature_c, "C", temp, sizeof(temp));
		gpu_cell(d->has_utilization_gpu, d->utilization_gpu_pct, "%", util, sizeof(util));
		gpu_cell(d->has_utilization_memory, d->utilization_memory_pct, "%", mutil,
		         sizeof(mutil));
		if (d->unified_memory)
			snprintf(mem, sizeof(mem), "unified*");
		else
			gpu_pair(d->has_memory_used, (double)(d->memory_used_bytes >> 20),
			         d->has_memory_total, (double)(d->memory_total_bytes >> 20), "MiB",
			         mem, sizeof(mem));
		gpu_pair(d->has_power_draw, d->power_draw_w, d->has_power_limit, d->power_limit_w,
		         "W", power, sizeof(power));
		gpu_cell(d->has_clock_sm, d->clock_sm_mhz, "MHz", clock, sizeof(clock));
		fprintf(out, "  %3u  %-24.24s %5s %5s %7s  %-21s %-15s %8s %4s\n", d->index,
		        d->name[0] ? d->name : "N/A", temp, util, mutil, mem, power, clock,
		        d->pstate[0] ? d->pstate : "N/A");
	}
	if (g->total > g->count)
		fprintf(out, "  (%u more GPUs not shown)\n", g->total - g->count);
	if (g->unified_memory) {
		if (snap->probes[PROBE_MEMORY].status == PROBE_OK) {
			human_bytes(snap->memory.used, used, sizeof(used));
			human_bytes(snap->memory.total, total, sizeof(total));
			fprintf(out,
			        "  * unified memory: the GPU uses system memory, %s used of %s "
			        "(see Memory)\n",
			        used, total);
		} else {
			fputs("  * unified memory: the GPU uses system memory (see Memory)\n", out);
		}
	}
	print_gpu_processes(g, out);
}

static void print_wireguard_peer(const struct config *cfg, const struct wireguard_peer *p,
                                 time_t now, FILE *out)
{
	char name[WIREGUARD_NAME_MAX], age[32], rx[16], tx[16], ip[INET6_ADDRSTRLEN + 8];
	int64_t seconds = verdict_peer_age(p, now);

	check_sanitize(p->name[0] ? p->name : "(no name)", name, sizeof(name));
	if (seconds < 0)
		snprintf(age, sizeof(age), "never");
	else
		human_age((uint64_t)seconds, age, sizeof(age));
	human_bytes(p->rx_bytes, rx, sizeof(rx));
	human_bytes(p->tx_bytes, tx, sizeof(tx));
	fprintf(out, "    %-20.20s %-6s %-8s %-28s %10s %10s %10s\n", name,
	        verdict_peer_state_name(verdict_peer_state(cfg, p, now)),
	        p->required ? "required" : "", p->endpoint_text[0] ? p->endpoint_text : "(none)",
	        age, rx, tx);
	fprintf(out, "      key %s  allowed ips", p->public_key);
	for (size_t i = 0; i < p->n_allowed_ips; i++) {
		wireguard_format_ip(&p->allowed_ips[i], ip, sizeof(ip));
		fprintf(out, "%s%s", i ? ", " : " ", ip);
	}
	fputs(p->n_allowed_ips ? "\n" : " (none)\n", out);
}

/* Like wg show: each interface, then its peers with names and states. */
static void print_wireguard(const struct config *cfg, const struct snapshot *snap, FILE *out)
{
	const struct wireguard *wg = &snap->wireguard;
	char ip[INET6_ADDRSTRLEN + 8];

	fputs("\nWireGuard\n", out);
	if (!area_ok(snap, PROBE_WIREGUARD, out))
		return;
	if (wg->n_devices == 0)
		fputs("  no WireGuard interface found\n", out);
	for (size_t i = 0; i < wg->n_devices; i++) {
		const struct wireguard_device *d = &wg->devices[i];
		size_t up = 0;

		fprintf(out, "  interface %s: %s, %s", d->name, wireguard_backend_name(d->backend),
		        !d->link_found ? "no such network interface"
		        : d->link_up   ? "up"
		                       : "down");
		for (size_t j = 0; j < d->n_addresses; j++) {
			wireguard_format_ip(&d->addresses[j], ip, sizeof(ip));
			fprintf(out, "%s%s", j ? ", " : ", addresses ", ip);
		}
		fputc('\n', out);
		if (d->error) {
			fprintf(out, "    not read: %s\n", d->error_text);
			continue;
		}
		for (size_t j = 0; j < d->n_peers; j++)
			up += verdict_peer_state(cfg, &d->peers[j], wg->collected_at) ==
			      VERDICT_PEER_UP;
		fprintf(out, "    public key: %s\n", d->has_public_key ? d->public_key : "(none)");
		fprintf(out, "    listening port: %u", d->listen_port);
		if (d->wgquick_read)
			fprintf(out, " (%s says %d)", d->wgquick_path, d->wgquick_listen_port);
		fputc('\n', out);
		if (d->fwmark)
			fprintf(out, "    fwmark: 0x%x\n", d->fwmark);
		if (d->wgquick_error[0] && strcmp(d->wgquick_error, "not found") != 0)
			fprintf(out, "    wg-quick file %s: %s\n", d->wgquick_path,
			        d->wgquick_error);
		fprintf(out, "    peers: %zu, %zu up\n", d->n_peers, up);
		if (d->n_peers)
			fprintf(out, "    %-20s %-6s %-8s %-28s %10s %10s %10s\n", "NAME", "STATE",
			        "", "ENDPOINT", "HANDSHAKE", "RX", "TX");
		for (size_t j = 0; j < d->n_peers; j++)
			print_wireguard_peer(cfg, &d->peers[j], wg->collected_at, out);
	}
	for (size_t i = 0; i < wg->n_missing_required; i++)
		fprintf(out, "  required peer %s: not a peer of any watched interface\n",
		        wg->missing_required[i]);
}

/* Per interface, family and direction: what each base chain does. */
static void print_firewall_decisions(const struct firewall *fw, FILE *out)
{
	for (size_t i = 0; i < fw->n_decisions; i++) {
		const struct firewall_decision *d = &fw->decisions[i];
		char text[FIREWALL_TEXT_MAX + 128], label[64];
		const char *verb =
		    d->result == FWPATH_RULE_ACCEPTS || d->result == FWPATH_POLICY_ACCEPTS
		        ? "accepts"
		    : d->result == FWPATH_TOO_COMPLEX ? "unknown"
		                                      : "DROPS";

		fwcheck_describe(d, text, sizeof(text));
		snprintf(label, sizeof(label), "%s IPv%d %s", d->iface, d->family,
		         fwcheck_direction_name(d->direction));
		fprintf(out, "  %-18s %-7s %s%s\n", label, verb, text,
		        d->after_docker ? " (after Docker's chains)" : "");
	}
	if (fw->decisions_cut)
		fputs("  (more base chains than shown)\n", out);
	for (size_t i = 0; i < fw->n_input; i++) {
		const struct firewall_decision *d = &fw->input[i];
		char text[FIREWALL_TEXT_MAX + 128], label[64];

		fwcheck_describe(d, text, sizeof(text));
		snprintf(label, sizeof(label), "%s tcp/%u in", d->iface, fw->input_port);
		fprintf(out, "  %-18s %-7s %s\n", label,
		        d->result == FWPATH_RULE_ACCEPTS || d->result == FWPATH_POLICY_ACCEPTS
		            ? "accepts"
		        : d->result == FWPATH_TOO_COMPLEX ? "unknown"
		                                          : "DROPS",
		        text);
	}
}

static void print_firewall(const struct snapshot *snap, FILE *out)
{
	const struct firewall *fw = &snap->firewall;

	fputs("\nFirewall\n", out);
	if (!area_ok(snap, PROBE_FIREWALL, out))
		return;
	fprintf(out, "  rules read by:     %s (%s)%s\n", fw->iptables_save,
	        fw->backend[0] ? fw->backend : "backend not named",
	        fw->legacy_tables_present ? ", iptables-legacy tables also loaded" : "");
	if (fw->nft_read)
		fprintf(out, "  nftables:          %s: %u tables, %u evaluated besides iptables'\n",
		        fw->nft, fw->nft_tables, fw->nft_native_tables);
	else if (fw->nft_error[0])
		fprintf(out, "  nftables:          %s\n", fw->nft_error);
	fprintf(out, "  FORWARD policy:    %s, %u filter rules, %u nat rules%s\n",
	        fw->forward_policy, fw->filter_rules, fw->nat_rules,
	        fw->docker ? ", Docker chains present" : "");
	fprintf(out, "  VPN network:       %s%s%s\n",
	        fw->vpn_subnet[0] ? fw->vpn_subnet : "unknown", fw->vpn_subnet6[0] ? ", " : "",
	        fw->vpn_subnet6);
	if (fw->ipv6 && !fw->ipv6_read)
		fprintf(out, "  IPv6 rules:        %s\n", fw->ipv6_error);
	print_firewall_decisions(fw, out);
	if (fw->masq_found)
		fprintf(out, "  masquerade:        %s %s rule %d: %s\n", fw->masq_table,
		        fw->masq_chain, fw->masq_rule_number, fw->masq_rule);
	else
		fputs("  masquerade:        none for the VPN\n", out);
	fprintf(out, "  default route:     %s%s%s\n", fw->default_route ? fw->default_if : "none",
	        fw->default_via[0] ? " via " : "", fw->default_via);
	if (fw->wgquick_path[0] || fw->wgquick_error[0])
		fprintf(out, "  wg-quick file:     %s\n",
		        fw->wgquick_error[0] ? fw->wgquick_error : fw->wgquick_path);
	for (size_t i = 0; i < fw->n_expect; i++) {
		const struct postup_expectation *e = &fw->expect[i];
		const char *state = !e->understood ? "not understood"
		                    : !e->checked  ? "not checked"
		                    : e->present   ? "present"
		                                   : "MISSING";

		fprintf(out, "  expected (%s): %s: %s%s%s\n", e->origin, state, e->command,
		        e->reason[0] ? " -- " : "", e->reason);
	}
}

static void print_endpoint(const struct snapshot *snap, FILE *out)
{
	const struct endpoint *ep = &snap->endpoint;

	fputs("\nEndpoint\n", out);
	if (!area_ok(snap, PROBE_ENDPOINT, out))
		return;
	if (ep->have_ip)
		fprintf(out, "  public IPv4:       %s (from %s)\n", ep->public_ip, ep->source_url);
	else
		fputs("  public IPv4:       unknown\n", out);
	for (size_t i = 0; i < ep->n_attempts; i++)
		if (!ep->attempts[i].ok)
			fprintf(out, "    %s: %s\n", ep->attempts[i].url, ep->attempts[i].error);
	if (ep->have_remembered)
		fprintf(out, "  remembered:        %s (%s)\n", ep->remembered_ip, ep->state_path);
	if (ep->state_error[0])
		fprintf(out, "  state:             %s\n", ep->state_error);
	if (ep->hostname[0]) {
		fprintf(out, "  %s:", ep->hostname);
		for (size_t i = 0; i < ep->n_hostname_ips; i++)
			fprintf(out, " %s", ep->hostname_ips[i]);
		fprintf(out, "%s\n", ep->hostname_error);
	}
	for (size_t i = 0; i < ep->n_probes; i++) {
		const struct endpoint_request *r = &ep->probes[i];

		fprintf(out, "  reach %-40s %s", r->url, r->ok ? "ok" : "FAILED");
		if (r->http_code)
			fprintf(out, " HTTP %ld", r->http_code);
		fprintf(out, " %.3f s%s%s\n", r->total_seconds, r->error[0] ? " " : "", r->error);
	}
	for (size_t i = 0; i < ep->v6.n_addresses; i++)
		fprintf(out, "  public IPv6:       %s (%s): Endpoint = [%s]:<port>\n",
		        ep->v6.addresses[i], ep->v6.ifname, ep->v6.addresses[i]);
	for (size_t i = 0; i < ep->v6.n_hostname_ips; i++)
		fprintf(out, "  %s AAAA: %s\n", ep->hostname, ep->v6.hostname_ips[i]);
	if (ep->v6.hostname_error[0])
		fprintf(out, "  %s AAAA: %s\n", ep->hostname, ep->v6.hostname_error);
}

static void print_ssh(const struct snapshot *snap, FILE *out)
{
	const struct ssh *s = &snap->ssh;
	char source[SSHDCONF_FILE_MAX + 64];

	fputs("\nSSH\n", out);
	if (!area_ok(snap, PROBE_SSH, out))
		return;
	sshcheck_port_source(s, source, sizeof(source));
	fprintf(out, "  port:              %u (%s)\n", s->port, source);
	fprintf(out, "  VPN address:       %s%s%s%s\n", s->vpn_address[0] ? s->vpn_address : "none",
	        s->vpn_ifname[0] ? " (" : "", s->vpn_ifname, s->vpn_ifname[0] ? ")" : "");
	fprintf(out, "  LAN address:       %s%s%s%s\n", s->lan_address[0] ? s->lan_address : "none",
	        s->lan_ifname[0] ? " (" : "", s->lan_ifname, s->lan_ifname[0] ? ")" : "");
	if (s->total_listeners == 0)
		fputs("  listening:         nothing\n", out);
	for (uint32_t i = 0; i < s->n_listeners; i++)
		fprintf(out, "  listening:         %s (%s)%s\n", s->listeners[i].address,
		        ssh_reach_name(s->listeners[i].reach),
		        (int32_t)i == s->usable ? " <- a VPN client's way in" : "");
	if (s->total_listeners > s->n_listeners)
		fprintf(out, "  listening:         and %u more\n",
		        s->total_listeners - s->n_listeners);
	for (unsigned i = 0; i < s->n_listen && i < SSH_LISTEN_KEPT; i++)
		fprintf(out, "  ListenAddress %s  (%s:%d)\n", s->listen[i].value, s->listen[i].file,
		        s->listen[i].line);
	if (s->banner == SSH_BANNER_NOT_TRIED)
		return;
	fprintf(out, "  banner from %s: %s, %.3f s: %s\n", s->banner_target,
	        ssh_banner_state_name(s->banner), s->banner_seconds,
	        s->banner == SSH_BANNER_OK ? s->banner_line : s->banner_error);
}

static void print_router_protocol(const char *name, enum router_answer a, const char *ip,
                                  const char *error, FILE *out)
{
	fprintf(out, "  %-19s%s", name, router_answer_name(a));
	if (a == ROUTER_ANSWERED)
		fprintf(out, ", external address %s", ip[0] ? ip : "none");
	fprintf(out, "%s%s\n", error[0] ? ": " : "", error);
}

static void print_router(const struct snapshot *snap, FILE *out)
{
	const struct router *r = &snap->router;

	fputs("\nRouter\n", out);
	if (!area_ok(snap, PROBE_ROUTER, out))
		return;
	fprintf(out, "  uplink:            %s %s/%u, gateway %s\n", r->ifname, r->address,
	        r->prefix, r->gateway);
	print_router_protocol("NAT-PMP:", r->natpmp, r->natpmp_ip, r->natpmp_error, out);
	print_router_protocol("UPnP:", r->upnp, r->upnp_ip, r->upnp_error, out);
	if (r->upnp_location[0])
		fprintf(out, "  UPnP device:       %s\n", r->upnp_location);
	if (r->external_ip[0])
		fprintf(out, "  external address:  %s (%s)\n", r->external_ip,
		        routercheck_kind_name(routercheck_kind(r->external_ip)));
	if (r->mapping == ROUTER_MAPPING_FOUND)
		fprintf(out, "  UDP %-14u -> %s:%u%s%s%s%s\n", r->port, r->mapping_client,
		        r->mapping_port, r->mapping_enabled ? "" : " (turned off)",
		        r->mapping_description[0] ? " \"" : "", r->mapping_description,
		        r->mapping_description[0] ? "\"" : "");
	else if (r->mapping == ROUTER_MAPPING_NONE)
		fprintf(out, "  UDP %-14u no mapping (%u listed)\n", r->port, r->mappings_listed);
	else if (r->mapping_error[0])
		fprintf(out, "  UDP %-14u %s\n", r->port, r->mapping_error);
}

static void print_probes(const struct snapshot *snap, FILE *out)
{
	fputs("\nProbes\n", out);
	for (int id = 0; id < PROBE__COUNT; id++) {
		const struct probe_outcome *p = &snap->probes[id];

		fprintf(out, "  %-12s %-10s %8.1f ms  %s\n", probetab[id].name,
		        snapshot_probe_status_name(p->status), p->duration_seconds * 1000,
		        p->error);
	}
}

void report_print(const struct config *cfg, const struct snapshot *snap,
                  const struct verdict *verdict, FILE *out)
{
	char stamp[32];
	struct tm tm;

	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S %Z",
	         localtime_r(&snap->generated_at, &tm));
	fprintf(out, "sparkmon %s on %s: %s (%s)\n\n", SPARKMON_VERSION, snap->host,
	        verdict_status_upper(verdict->overall), stamp);
	print_checks(verdict, out);
	print_memory(snap, out);
	print_forwarding(snap, out);
	print_gpu(snap, out);
	print_wireguard(cfg, snap, out);
	print_firewall(snap, out);
	print_endpoint(snap, out);
	print_ssh(snap, out);
	print_router(snap, out);
	print_probes(snap, out);
}
