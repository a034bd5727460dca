#include "probes/firewall.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/config.h"
#include "probes/caps.h"
#include "probes/caps.h"
#include "probes/iptsave.h"
#include "probes/nftjson.h"
#include "probes/rtnl.h"
#include "probes/runner.h"
#include "probes/ssh.h"
#include "probes/text.h"
#include "probes/wgquick.h"
#include "probes/wireguard.h"

/* iptables-save of a large Docker host is tens of kilobytes; 5000 rules
 * are about 500 KiB (nft's JSON about four times that). Past this,
 * something is wrong. */
#define FIREWALL_OUTPUT_MAX (8 * 1024 * 1024)
#define FIREWALL_TIMEOUT_MS 5000
#define FIREWALL_LAYERS_MAX 32

static void copy_display(char *dst, size_t size, const char *src)
{
	text_copy_utf8(dst, size, src, strlen(src));
}

/* ---- decisions ------------------------------------------------------------------ */

static void fill_decision(struct firewall_decision *d, const struct fwpath_layer *l,
                          const struct fwpath_decision *fd)
{
	d->result = fd->result;
	d->native = l->native;
	snprintf(d->table_family, sizeof(d->table_family), "%s", l->table->family);
	snprintf(d->table, sizeof(d->table), "%s", l->table->name);
	snprintf(d->base_chain, sizeof(d->base_chain), "%s", l->chain->name);
	snprintf(d->policy, sizeof(d->policy), "%s", l->chain->policy);
	snprintf(d->chain, sizeof(d->chain), "%s", fd->chain->name);
	d->after_docker = fd->after_docker;
	if (fd->rule) {
		d->rule_number = (int)fd->rule_index + 1;
		copy_display(d->rule, sizeof(d->rule), fd->rule->text);
	}
}

static struct firewall_decision *new_decision(struct firewall *fw, const char *iface, int family,
                                              enum fwpath_direction dir)
{
	struct firewall_decision *d;

	if (fw->n_decisions >= FIREWALL_DECISIONS_MAX) {
		fw->decisions_cut = true;
		return NULL;
	}
	d = &fw->decisions[fw->n_decisions++];
	memset(d, 0, sizeof(*d));
	snprintf(d->iface, sizeof(d->iface), "%s", iface);
	d->family = family;
	d->direction = dir;
	return d;
}

int firewall_decide(struct firewall *fw, const struct fwpath_layer *layers, size_t n_layers,
                    const char *iface, int family, enum fwpath_direction dir, const char *uplink,
                    const char *vpn_net)
{
	struct fwpath_packet pk;
	struct firewall_decision *d;

	fwpath_packet_for(dir, family, iface, uplink, vpn_net, &pk);
	if (n_layers == 0) {
		d = new_decision(fw, iface, family, dir);
		if (d) {
			d->result = FWPATH_POLICY_ACCEPTS;
			d->nothing_filters = true;
		}
		return 0;
	}
	for (size_t i = 0; i < n_layers; i++) {
		struct fwpath_decision fd;
		int r = fwpath_decide(layers[i].table, layers[i].chain, &pk, &fd);

		if (r < 0)
			return r;
		d = new_decision(fw, iface, family, dir);
		if (d)
			fill_decision(d, &layers[i], &fd);
	}
	return 0;
}

static struct firewall_decision *new_input(struct firewall *fw, const char *iface)
{
	struct firewall_decision *d;

	if (fw->n_input >= FIREWALL_INPUT_MAX) {
		fw->input_cut = true;
		return NULL;
	}
	d = &fw->input[fw->n_input++];
	memset(d, 0, sizeof(*d));
	snprintf(d->iface, sizeof(d->iface), "%s", iface);
	d->family = 4;
	return d;
}

int firewall_decide_input(struct firewall *fw, const struct fwpath_layer *layers, size_t n_layers,
                          const char *iface, const char *vpn_net, uint16_t port)
{
	struct fwpath_packet pk;
	struct firewall_decision *d;

	fwpath_packet_input(4, iface, vpn_net, IPPROTO_TCP, port, &pk);
	if (n_layers == 0) {
		d = new_input(fw, iface);
		if (d) {
			d->result = FWPATH_POLICY_ACCEPTS;
			d->nothing_filters = true;
		}
		return 0;
	}
	for (size_t i = 0; i < n_layers; i++) {
		struct fwpath_decision fd;
		int r = fwpath_decide(layers[i].table, layers[i].chain, &pk, &fd);

		if (r < 0)
			return r;
		d = new_input(fw, iface);
		if (d)
			fill_decision(d, &layers[i], &fd);
	}
	return 0;
}

/* ---- rtnetlink: links, the default route, the VPN's address ----------------------- */

struct net_state {
	struct rtnl_links links;
	/* The default routes: of the main table's, the lowest metric. */
	bool have_default, have_default6;
	struct rtnl_route default_route, default_route6;
};

static bool link_pattern_exists(const struct net_state *st, const char *pattern)
{
	for (size_t i = 0; i < st->links.count; i++)
		if (fwrules_iface_matches(pattern, st->links.items[i].name))
			return true;
	return false;
}

/* Links and routes the kernel sends malformed are skipped. */
static int read_net(struct net_state *st, char *err, size_t errlen)
{
	int r;

	r = rtnl_dump_links(&st->links, 0);
	if (r < 0)
		return fwrules_fail(err, errlen, 0, r, "rtnetlink link dump: %s", strerror(-r));
	r = rtnl_dump_default_route(AF_INET, &st->default_route, 0);
	if (r < 0 && r != -ENOENT)
		return fwrules_fail(err, errlen, 0, r, "rtnetlink route dump: %s", strerror(-r));
	st->have_default = r == 0;
	st->have_default6 = rtnl_dump_default_route(AF_INET6, &st->default_route6, 0) == 0;
	return 0;
}

/* The first address of a family of a link (not a link-local one), as
 * its network. */
static int read_vpn_address(int ifindex, int family, char *buf, size_t size)
{
	struct rtnl_addrs addrs = {.items = NULL};
	int r;

	r = rtnl_dump_addrs(family == 4 ? AF_INET : AF_INET6, ifindex, &addrs, 0);
	for (size_t i = 0; r == 0 && i < addrs.count; i++) {
		struct fwrules_net n = {.family = family, .prefix = addrs.items[i].prefixlen};
		char text[FWRULES_ADDR_MAX];

		memcpy(n.addr, addrs.items[i].address, family == 4 ? 4 : 16);
		if (family == 6 && n.addr[0] == 0xfe && (n.addr[1] & 0xc0) == 0x80)
			continue;
		/* Formatting and parsing back clears the host bits. */
		fwrules_net_format(&n, text, sizeof(text));
		if (fwrules_net_parse(text, &n) == 0) {
			fwrules_net_format(&n, buf, size);
			rtnl_addrs_free(&addrs);
			return 0;
		}
	}
	rtnl_addrs_free(&addrs);
	return r < 0 ? r : -ENOENT;
}

struct iface_files {
	char name[IF_NAMESIZE];
	char path[PATH_MAX];
	bool have_file;
	struct wgquick_file file;
};

/* The wg-quick path of an interface: the configured template with %i
 * replaced, under the configured root. */
static int wgquick_path(const struct config *cfg, const char *iface, char *display, size_t dsize,
                        char *path, size_t psize)
{
	postup_substitute_iface(cfg->wireguard_wg_quick_file, iface, display, dsize);
	return config_path(cfg, display, path, psize);
}

/* The names of the wg-quick files in the template's folder. */
static size_t wgquick_dir_interfaces(const struct config *cfg, struct iface_files *out)
{
	char dir[PATH_MAX], display[PATH_MAX];
	const char *tmpl = cfg->wireguard_wg_quick_file;
	size_t dlen = (size_t)(strstr(tmpl, "/%i.conf") - tmpl), n = 0;
	struct dirent *de;
	DIR *d;

	snprintf(display, sizeof(display), "%.*s", (int)dlen, tmpl);
	if (config_path(cfg, display[0] ? display : "/", dir, sizeof(dir)) < 0)
		return 0;
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < FIREWALL_IFACES_MAX) {
		size_t len = strlen(de->d_name);

		if (len > 5 && len - 5 < IF_NAMESIZE && strcmp(de->d_name + len - 5, ".conf") == 0)
			snprintf(out[n++].name, IF_NAMESIZE, "%.*s", (int)(len - 5), de->d_name);
	}
	closedir(d);
	return n;
}

/* The interfaces to look at: the WireGuard probe's discovery (configured
 * ones, else kernel and userspace WireGuard interfaces), else the wg-quick
 * files in the template's folder (none is up). */
static size_t pick_interfaces(const struct config *cfg, const struct net_state *st,
                              struct iface_files *out)
{
	struct wireguard_names *names = malloc(sizeof(*names));
	size_t n = 0;

	if (!names)
		return 0;
	wireguard_discover(cfg, &st->links, names);
	for (size_t i = 0; i < names->count && n < FIREWALL_IFACES_MAX; i++)
		snprintf(out[n++].name, IF_NAMESIZE, "%s", names->names[i]);
	free(names);
	if (n || cfg->wireguard_interfaces.count ||
	    !strstr(cfg->wireguard_wg_quick_file, "/%i.conf"))
		return n;
	return wgquick_dir_interfaces(cfg, out);
}

static void add_expectation(struct firewall *fw, const struct postup_expectation *e)
{
	if (fw->n_expect < FIREWALL_EXPECT_MAX)
		fw->expect[fw->n_expect++] = *e;
}

/* Splits PostUp values on ';' into expectations, as the shell would run
 * them one after another. */
static void expectations_from_file(struct firewall *fw, const struct iface_files *f,
                                   const char *display)
{
	for (size_t i = 0; i < f->file.n_post_up; i++) {
		char *copy = strdup(f->file.post_up[i]), *save = NULL;

		if (!copy)
			return;
		for (char *cmd = strtok_r(copy, ";", &save); cmd;
		     cmd = strtok_r(NULL, ";", &save)) {
			struct postup_expectation e;

			while (*cmd == ' ' || *cmd == '\t')
				cmd++;
			if (!*cmd)
				continue;
			postup_parse_command(cmd, f->name, &e);
			snprintf(e.origin, sizeof(e.origin), "%.200s PostUp", display);
			add_expectation(fw, &e);
		}
		explicit_bzero(copy, strlen(f->file.post_up[i]));
		free(copy);
	}
}

/* The guide's two rules, when there is no wg-quick file to read them from. */
static void expectations_standard(struct firewall *fw, const char *iface, const char *uplink)
{
	struct postup_expectation e;
	char cmd[FIREWALL_TEXT_MAX];

	snprintf(cmd, sizeof(cmd), "iptables -A FORWARD -i %s -j ACCEPT", iface);
	postup_parse_command(cmd, iface, &e);
	snprintf(e.origin, sizeof(e.origin), "standard setup");
	add_expectation(fw, &e);
	if (*uplink)
		snprintf(cmd, sizeof(cmd), "iptables -t nat -A POSTROUTING -o %s -j MASQUERADE",
		         uplink);
	else
		snprintf(cmd, sizeof(cmd), "iptables -t nat -A POSTROUTING -j MASQUERADE");
	postup_parse_command(cmd, iface, &e);
	snprintf(e.origin, sizeof(e.origin), "standard setup");
	add_expectation(fw, &e);
}

/* The first PostUp/PostDown value that names "-o <nic>", %i replaced. */
static void find_line(const struct iface_files *files, size_t n, bool up, const char *nic,
                      char *buf, size_t size)
{
	char needle[IF_NAMESIZE + 4];

	snprintf(needle, sizeof(needle), "-o %s", nic);
	for (size_t i = 0; i < n; i++) {
		char **lines = up ? files[i].file.post_up : files[i].file.post_down;
		size_t count = up ? files[i].file.n_post_up : files[i].file.n_post_down;

		for (size_t j = 0; j < count; j++) {
			char text[FIREWALL_TEXT_MAX * 2];
			const char *hit;

			bool found;

			postup_substitute_iface(lines[j], files[i].name, text, sizeof(text));
			hit = strstr(text, needle);
			found = hit &&
			        (hit[strlen(needle)] == ' ' || hit[strlen(needle)] == '\0' ||
			         hit[strlen(needle)] == ';') &&
			        postup_only_iptables(lines[j]);
			explicit_bzero(text, sizeof(text));
			if (found) {
				/* As written in the file (with %i), for the hint. */
				copy_display(buf, size, lines[j]);
				return;
			}
		}
	}
}

/* Runs a program that prints a ruleset (iptables-save, ip6tables-save, nft
 * -j list ruleset). */
static int run_dump(const char *const argv[], char **ret, size_t *ret_len, char *err, size_t errlen)
{
	struct runner_options opts = {.timeout_ms = FIREWALL_TIMEOUT_MS,
	                              .max_output = FIREWALL_OUTPUT_MAX,
	                              .keep_caps = CAPS_RULESET_DUMP};
	const char *program = argv[0];
	struct runner_result res;
	char how[128];
	int r;

	r = runner_run(argv, &opts, &res);
	if (r < 0)
		return fwrules_fail(err, errlen, 0, r, "cannot run %s: %s", program, strerror(-r));
	if (res.timed_out || res.truncated || !res.exited || res.exit_code != 0) {
		char stderr_text[200];

		runner_describe(&res, how, sizeof(how));
		copy_display(stderr_text, sizeof(stderr_text), res.err);
		/* iptables-save exits 1 or 4 when not permitted; its message
		 * says why ("Permission denied (you must be root)"); nft says
		 * "Operation not permitted". */
		r = res.timed_out   ? -ETIMEDOUT
		    : res.truncated ? -EFBIG
		    : strstr(res.err, "ermission denied") || strstr(res.err, "must be root") ||
		            strstr(res.err, "not permitted")
		        ? -EPERM
		        : -EIO;
		fwrules_fail(err, errlen, 0, r, "%s: %s%s%s", program, how,
		             stderr_text[0] ? ": " : "", stderr_text);
		runner_result_free(&res);
		return r;
	}
	*ret = res.out;
	*ret_len = res.out_len;
	res.out = NULL;
	runner_result_free(&res);
	return 0;
}

/* Every name kept comes from a ruleset or a wg-quick file, which may hold
 * any bytes (chain names and interface patterns are copied as they are,
 * for matching): make each one valid UTF-8 text for the outputs. */
static void sanitize_facts(struct firewall *fw)
{
	char *texts[] = {fw->iptables_save,  fw->ip6tables_save, fw->nft,         fw->nft_error,
	                 fw->backend,        fw->forward_policy, fw->ipv6_error,  fw->wgquick_path,
	                 fw->wgquick_error,  fw->vpn_subnet,     fw->vpn_subnet6, fw->masq_table,
	                 fw->masq_rule,      fw->masq_chain,     fw->masq_out,    fw->default_if,
	                 fw->default6_if,    fw->default_via,    fw->postup_line, fw->postdown_line,
	                 fw->forward6_policy};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		text_sanitize_utf8(texts[i]);
	for (size_t i = 0; i < fw->n_ifaces; i++)
		text_sanitize_utf8(fw->ifaces[i]);
	for (size_t i = 0; i < fw->n_decisions; i++) {
		struct firewall_decision *d = &fw->decisions[i];
		char *dtexts[] = {d->iface,  d->table_family, d->table, d->base_chain,
		                  d->policy, d->chain,        d->rule};

		for (size_t j = 0; j < sizeof(dtexts) / sizeof(dtexts[0]); j++)
			text_sanitize_utf8(dtexts[j]);
	}
	for (size_t i = 0; i < fw->n_expect; i++) {
		struct postup_expectation *e = &fw->expect[i];
		char *etexts[] = {e->command, e->origin, e->reason, e->table, e->chain,
		                  e->target,  e->in,     e->out,    e->src,   e->dst};

		for (size_t j = 0; j < sizeof(etexts) / sizeof(etexts[0]); j++)
			text_sanitize_utf8(etexts[j]);
	}
}

/* Runs iptables-save (or ip6tables-save) and parses what it prints. */
static int read_ruleset(const char *program, int family, struct fwrules_ruleset *ret, char *err,
                        size_t errlen)
{
	const char *argv[] = {program, NULL};
	char *out = NULL, perr[256] = "";
	size_t out_len = 0;
	int r;

	r = run_dump(argv, &out, &out_len, err, errlen);
	if (r < 0)
		goto out;
	r = iptsave_parse(out, out_len, family, ret, perr, sizeof(perr));
	if (r < 0)
		fwrules_fail(err, errlen, 0, r, "%s output: %s", program, perr);
out:
	free(out);
	return r;
}

/* Runs `nft -j list ruleset` and parses it. A missing nft is no failure:
 * the host then has only what iptables shows. */
static int read_nft(const char *program, struct fwrules_tables *ret, struct firewall *fw)
{
	const char *argv[] = {program, "-j", "list", "ruleset", NULL};
	char *out = NULL, perr[160] = "", rerr[200] = "";
	size_t out_len = 0;
	int r;

	r = run_dump(argv, &out, &out_len, rerr, sizeof(rerr));
	if (r == -ENOENT) {
		snprintf(fw->nft_error, sizeof(fw->nft_error),
		         "nft is not installed (%.120s): native nftables rules not read", program);
		goto out;
	}
	if (r < 0) {
		snprintf(fw->nft_error, sizeof(fw->nft_error), "%s", rerr);
		goto out;
	}
	r = nftjson_parse(out, out_len, ret, perr, sizeof(perr));
	if (r < 0)
		snprintf(fw->nft_error, sizeof(fw->nft_error), "nft -j output: %s", perr);
out:
	free(out);
	return r;
}

static void count_rules(const struct fwrules_table *t, unsigned *ret)
{
	for (size_t i = 0; i < t->n_chains; i++)
		*ret += (unsigned)t->chains[i].n_rules;
}

static const char *forward_policy_of(const struct fwrules_ruleset *rs)
{
	const struct fwrules_chain *c = fwrules_find_chain(&rs->filter, "FORWARD");

	return c && c->policy[0] ? c->policy : "ACCEPT";
}

/* What the ruleset holds overall: backend, tables, FORWARD policy, Docker,
 * rule counts. */
static void summarize_ruleset(struct firewall *fw, const struct fwrules_ruleset *rs)
{
	snprintf(fw->backend, sizeof(fw->backend), "%s", rs->backend);
	fw->legacy_tables_present = rs->legacy_tables_present;
	fw->filter_present = rs->filter.present;
	fw->nat_present = rs->nat.present;
	snprintf(fw->forward_policy, sizeof(fw->forward_policy), "%s", forward_policy_of(rs));
	for (size_t i = 0; i < rs->filter.n_chains; i++)
		if (fwpath_is_docker_chain(rs->filter.chains[i].name))
			fw->docker = true;
	count_rules(&rs->filter, &fw->filter_rules);
	count_rules(&rs->nat, &fw->nat_rules);
}

/* The NIC of a route, by its index. */
static void route_nic(const struct net_state *st, const struct rtnl_route *route, char *buf,
                      size_t size)
{
	for (size_t i = 0; i < st->links.count; i++)
		if (st->links.items[i].ifindex == route->oif)
			snprintf(buf, size, "%s", st->links.items[i].name);
}

/* Records the default routes; returns the IPv4 one's NIC, the uplink ("" if
 * none). */
static const char *note_default_route(struct firewall *fw, const struct net_state *st)
{
	const struct rtnl_route *route = &st->default_route;

	if (st->have_default6)
		route_nic(st, &st->default_route6, fw->default6_if, sizeof(fw->default6_if));
	if (!st->have_default)
		return "";
	route_nic(st, route, fw->default_if, sizeof(fw->default_if));
	fw->default_route = true;
	fw->default_via[0] = '\0';
	if (route->has_gateway)
		inet_ntop(AF_INET, route->gateway, fw->default_via, sizeof(fw->default_via));
	return fw->default_if;
}

/* The first network of a family in a comma-separated list ("10.100.0.1/24,
 * fd00::1/64"), host bits cleared. */
static bool first_net(const char *list, int family, char *buf, size_t size)
{
	char copy[WGQUICK_TEXT_MAX], *save = NULL;

	snprintf(copy, sizeof(copy), "%s", list);
	for (char *a = strtok_r(copy, ", ", &save); a; a = strtok_r(NULL, ", ", &save)) {
		struct fwrules_net n;

		if (fwrules_net_parse(a, &n) == 0 && n.family == family) {
			fwrules_net_format(&n, buf, size);
			return true;
		}
	}
	return false;
}

/* Whether a wg-quick file puts IPv6 through the tunnel: an IPv6 Address,
 * or an IPv6 prefix in a peer's AllowedIPs. */
static bool file_carries_ipv6(const struct wgquick_file *file, char *net6, size_t size)
{
	char scratch[FWRULES_ADDR_MAX];
	bool found = first_net(file->address, 6, net6, size);

	for (size_t i = 0; i < file->n_peers && !found; i++)
		found = first_net(file->peers[i].allowed_ips, 6, scratch, sizeof(scratch));
	return found;
}

/* Reads an interface's wg-quick file into f; the first file read and the
 * first error other than a missing file are kept for the outputs. */
static void read_iface_file(struct iface_files *f, const char *display, struct firewall *fw)
{
	char ferr[160];
	int r;

	r = wgquick_read(f->path, &f->file, ferr, sizeof(ferr));
	if (r == 0) {
		f->have_file = true;
		if (!fw->wgquick_path[0])
			snprintf(fw->wgquick_path, sizeof(fw->wgquick_path), "%.250s", display);
	} else if (r != -ENOENT && !fw->wgquick_error[0]) {
		snprintf(fw->wgquick_error, sizeof(fw->wgquick_error), "%s", ferr);
	}
}

/* One VPN interface: its networks and the rules its wg-quick file (or,
 * without one, the standard setup) adds. */
static void read_vpn_iface(const struct config *cfg, const struct net_state *st,
                           struct iface_files *f, const char *uplink, struct firewall *fw)
{
	const struct rtnl_link *l = rtnl_links_find(&st->links, f->name);
	char display[PATH_MAX];

	if (!fw->vpn_subnet[0] && l)
		read_vpn_address(l->ifindex, 4, fw->vpn_subnet, sizeof(fw->vpn_subnet));
	if (!fw->vpn_subnet6[0] && l &&
	    read_vpn_address(l->ifindex, 6, fw->vpn_subnet6, sizeof(fw->vpn_subnet6)) == 0)
		fw->ipv6 = true;
	if (!cfg->wireguard_wg_quick_file[0] ||
	    wgquick_path(cfg, f->name, display, sizeof(display), f->path, sizeof(f->path)) < 0)
		return;
	read_iface_file(f, display, fw);
	if (f->have_file && !fw->vpn_subnet[0])
		first_net(f->file.address, 4, fw->vpn_subnet, sizeof(fw->vpn_subnet));
	if (f->have_file) {
		char net6[FWRULES_ADDR_MAX] = "";

		if (file_carries_ipv6(&f->file, net6, sizeof(net6)))
			fw->ipv6 = true;
		if (!fw->vpn_subnet6[0] && net6[0])
			snprintf(fw->vpn_subnet6, sizeof(fw->vpn_subnet6), "%s", net6);
		expectations_from_file(fw, f, display);
	} else {
		expectations_standard(fw, f->name, uplink);
	}
}

/* Looks for each checkable expected rule in the ruleset of its family and
 * counts what is missing or not understood. Returns the NIC that the first
 * expected MASQUERADE or SNAT names, or NULL. */
static const char *check_expectations(struct firewall *fw, const struct fwrules_ruleset *rs,
                                      const struct fwrules_ruleset *rs6)
{
	const char *prefer = NULL;

	for (size_t i = 0; i < fw->n_expect; i++) {
		struct postup_expectation *e = &fw->expect[i];
		const struct fwrules_ruleset *of = e->family == 6 ? rs6 : rs;

		if (!e->understood) {
			fw->not_understood++;
			continue;
		}
		/* ip6tables rules are looked for only when ip6tables-save ran. */
		e->checked = e->checked && of;
		if (!e->checked)
			continue;
		e->present = postup_expectation_present(of, e);
		if (!e->present)
			fw->missing++;
		/* The NIC the PostUp MASQUERADE names is the one to judge. */
		if (!prefer && e->family == 4 && strcmp(e->table, "nat") == 0 &&
		    strcmp(e->chain, "POSTROUTING") == 0 &&
		    (strcmp(e->target, "MASQUERADE") == 0 || strcmp(e->target, "SNAT") == 0) &&
		    e->out[0] && !e->out_neg)
			prefer = e->out;
	}
	return prefer;
}

/* The rulesets the probe read, and which nft tables it evaluates. */
struct rulesets {
	struct fwrules_ruleset v4, v6;
	bool have_v4, have_v6;
	struct fwrules_tables nft;
	bool skip_xt_tables;
};

static void note_masq(struct firewall *fw, const struct fwpath_masq *m, bool native)
{
	fw->masq_found = true;
	fw->masq_native = native;
	if (native)
		snprintf(fw->masq_table, sizeof(fw->masq_table), "%s %s", m->table->family,
		         m->table->name);
	else
		snprintf(fw->masq_table, sizeof(fw->masq_table), "nat");
	copy_display(fw->masq_rule, sizeof(fw->masq_rule), m->rule->text);
	snprintf(fw->masq_chain, sizeof(fw->masq_chain), "%s", m->chain->name);
	fw->masq_rule_number = (int)m->rule_index + 1;
	snprintf(fw->masq_out, sizeof(fw->masq_out), "%s", m->rule->out);
	fw->masq_out_neg = m->rule->out_neg;
}

/* The MASQUERADE rule for the VPN's IPv4 network: in iptables' nat
 * POSTROUTING, else in a native nft nat chain on postrouting. */
static int find_masquerade(struct firewall *fw, const struct rulesets *rs, const char *nic)
{
	const struct fwrules_chain *post = fwrules_find_chain(&rs->v4.nat, "POSTROUTING");
	struct fwpath_masq m = {.found = false};
	int r;

	if (rs->v4.nat.present && post) {
		r = fwpath_find_masquerade(&rs->v4.nat, post, fw->vpn_subnet, nic, &m);
		if (r < 0)
			return r;
		if (m.found) {
			note_masq(fw, &m, false);
			return 0;
		}
	}
	for (size_t i = 0; i < rs->nft.count; i++) {
		const struct fwrules_table *t = &rs->nft.items[i];

		if (strcmp(t->family, "ip") != 0 && strcmp(t->family, "inet") != 0)
			continue;
		for (size_t j = 0; j < t->n_chains; j++) {
			const struct fwrules_chain *c = &t->chains[j];

			if (!c->nat || c->hook != FWRULES_HOOK_POSTROUTING ||
			    (rs->skip_xt_tables && fwpath_is_xt_chain(t, c)))
				continue;
			r = fwpath_find_masquerade(t, c, fw->vpn_subnet, nic, &m);
			if (r < 0)
				return r;
			if (m.found) {
				note_masq(fw, &m, true);
				return 0;
			}
		}
	}
	return 0;
}

/* The MASQUERADE rule, whether its NIC exists, and the PostUp/PostDown
 * lines that name that NIC, for the hint. */
static int judge_masquerade(struct firewall *fw, const struct rulesets *rs,
                            const struct net_state *st, const struct iface_files *files,
                            size_t n_ifaces, const char *nic)
{
	int r = find_masquerade(fw, rs, nic);

	if (r < 0)
		return r;
	if (fw->masq_found && fw->masq_out[0])
		fw->masq_out_exists = link_pattern_exists(st, fw->masq_out);
	if (fw->masq_found && fw->masq_out[0] && !fw->masq_out_neg) {
		find_line(files, n_ifaces, true, fw->masq_out, fw->postup_line,
		          sizeof(fw->postup_line));
		find_line(files, n_ifaces, false, fw->masq_out, fw->postdown_line,
		          sizeof(fw->postdown_line));
	}
	return 0;
}

/* Every interface, both directions, of one family. */
static int decide_family(struct firewall *fw, const struct rulesets *rs, int family,
                         const char *uplink, const char *vpn_net)
{
	struct fwpath_layer layers[FIREWALL_LAYERS_MAX];
	size_t n = fwpath_layers(family == 6 ? &rs->v6 : &rs->v4, fw->nft_read ? &rs->nft : NULL,
	                         rs->skip_xt_tables, family, layers, FIREWALL_LAYERS_MAX);

	for (size_t i = 0; i < fw->n_ifaces; i++)
		for (int dir = FWPATH_OUT; dir <= FWPATH_BACK; dir++) {
			int r = firewall_decide(fw, layers, n, fw->ifaces[i], family,
			                        (enum fwpath_direction)dir, uplink, vpn_net);

			if (r < 0)
				return r;
		}
	return 0;
}

/* Every interface's new TCP connections to the SSH port, IPv4. */
static int decide_input(const struct config *cfg, struct firewall *fw, const struct rulesets *rs)
{
	struct fwpath_layer layers[FIREWALL_LAYERS_MAX];
	size_t n;

	fw->input_port = ssh_port(cfg);
	if (!fw->input_port)
		return 0;
	fw->ufw = rs->v4.filter.present && fwrules_find_chain(&rs->v4.filter, "ufw-user-input");
	n = fwpath_input_layers(&rs->v4, fw->nft_read ? &rs->nft : NULL, rs->skip_xt_tables, 4,
	                        layers, FIREWALL_LAYERS_MAX);
	for (size_t i = 0; i < fw->n_ifaces; i++) {
		int r = firewall_decide_input(fw, layers, n, fw->ifaces[i], fw->vpn_subnet,
		                              fw->input_port);

		if (r < 0)
			return r;
	}
	return 0;
}

/* A table of nft's ruleset that is not only iptables-nft's own. */
static bool native_table(const struct rulesets *rs, const struct fwrules_table *t)
{
	if (!rs->skip_xt_tables || !fwpath_is_xt_table(t))
		return true;
	for (size_t i = 0; i < t->n_chains; i++)
		if (t->chains[i].hook != FWRULES_HOOK_NONE && !fwpath_is_xt_chain(t, &t->chains[i]))
			return true;
	return false;
}

/* nft and, when the VPN carries IPv6, ip6tables-save. A missing nft is a
 * fact (no native rules to read); an nft that is there but fails (hangs,
 * floods, exits non-zero) fails the probe, as native rules it did not show
 * may drop what iptables' rules accept. A failing ip6tables-save is a fact
 * of its own, for the IPv6 check. Returns 0 or the nft failure. */
static int read_more(const struct config *cfg, struct firewall *fw, struct rulesets *rs)
{
	char err6[200] = "";
	int r = cfg->firewall_nft[0] ? read_nft(cfg->firewall_nft, &rs->nft, fw) : -ENOENT;

	if (r == 0) {
		fw->nft_read = true;
		fw->nft_tables = (unsigned)rs->nft.count;
		for (size_t i = 0; i < rs->nft.count; i++)
			if (native_table(rs, &rs->nft.items[i]))
				fw->nft_native_tables++;
	} else if (r != -ENOENT) {
		return r;
	}
	if (!fw->ipv6)
		return 0;
	if (read_ruleset(cfg->firewall_ip6tables_save, 6, &rs->v6, err6, sizeof(err6)) == 0) {
		rs->have_v6 = true;
		fw->ipv6_read = true;
		snprintf(fw->forward6_policy, sizeof(fw->forward6_policy), "%s",
		         forward_policy_of(&rs->v6));
	} else {
		snprintf(fw->ipv6_error, sizeof(fw->ipv6_error), "%s", err6);
	}
	return 0;
}

static void free_files(struct iface_files *files)
{
	for (size_t i = 0; files && i < FIREWALL_IFACES_MAX; i++)
		if (files[i].have_file)
			wgquick_free(&files[i].file);
	free(files);
}

/* Everything after the rulesets are read: the VPN, the expectations, the
 * masquerade and the decisions. */
static int judge(const struct config *cfg, struct firewall *fw, struct rulesets *rs,
                 struct net_state *st, struct iface_files *files, char *err, size_t errlen)
{
	const char *uplink, *prefer;
	size_t n_ifaces;
	int r;

	summarize_ruleset(fw, &rs->v4);
	uplink = note_default_route(fw, st);
	n_ifaces = pick_interfaces(cfg, st, files);
	for (size_t i = 0; i < n_ifaces; i++) {
		read_vpn_iface(cfg, st, &files[i], uplink, fw);
		snprintf(fw->ifaces[i], IF_NAMESIZE, "%s", files[i].name);
	}
	fw->n_ifaces = n_ifaces;
	/* Output without a header (nothing loaded) is iptables-nft's too:
	 * only a legacy view leaves the nft tables of xtables' names apart. */
	rs->skip_xt_tables = strcmp(rs->v4.backend, "legacy") != 0;
	r = read_more(cfg, fw, rs);
	if (r < 0)
		return fwrules_fail(err, errlen, 0, r, "%s", fw->nft_error);
	prefer = check_expectations(fw, &rs->v4, rs->have_v6 ? &rs->v6 : NULL);
	r = judge_masquerade(fw, rs, st, files, n_ifaces, prefer ? prefer : uplink);
	if (r < 0)
		return r;
	/* Forwarded VPN traffic leaves by the default route's NIC. */
	r = decide_family(fw, rs, 4, uplink, fw->vpn_subnet);
	if (r == 0)
		r = decide_input(cfg, fw, rs);
	if (r == 0 && fw->ipv6 && rs->have_v6)
		r = decide_family(fw, rs, 6, fw->default6_if[0] ? fw->default6_if : uplink,
		                  fw->vpn_subnet6);
	return r;
}

int firewall_read(const struct config *cfg, struct firewall *ret, char *err, size_t errlen)
{
	struct firewall *fw = calloc(1, sizeof(*fw));
	struct net_state *st = calloc(1, sizeof(*st));
	struct iface_files *files = calloc(FIREWALL_IFACES_MAX, sizeof(*files));
	struct rulesets *rs = calloc(1, sizeof(*rs));
	int r;

	if (!fw || !st || !files || !rs) {
		r = fwrules_fail(err, errlen, 0, -ENOMEM, "out of memory");
		goto out;
	}
	snprintf(fw->iptables_save, sizeof(fw->iptables_save), "%s", cfg->firewall_iptables_save);
	snprintf(fw->ip6tables_save, sizeof(fw->ip6tables_save), "%s",
	         cfg->firewall_ip6tables_save);
	snprintf(fw->nft, sizeof(fw->nft), "%s", cfg->firewall_nft);
	r = read_ruleset(cfg->firewall_iptables_save, 4, &rs->v4, err, errlen);
	if (r < 0)
		goto out;
	rs->have_v4 = true;
	r = read_net(st, err, errlen);
	if (r < 0)
		goto out;
	err[0] = '\0';
	r = judge(cfg, fw, rs, st, files, err, errlen);
	if (r < 0) {
		if (!err[0])
			fwrules_fail(err, errlen, 0, r, "%s", strerror(-r));
		goto out;
	}
	sanitize_facts(fw);
	*ret = *fw;
out:
	free_files(files);
	if (rs) {
		fwrules_ruleset_free(&rs->v4);
		fwrules_ruleset_free(&rs->v6);
		fwrules_tables_free(&rs->nft);
	}
	if (st)
		rtnl_links_free(&st->links);
	free(rs);
	free(st);
	free(fw);
	return r;
}
