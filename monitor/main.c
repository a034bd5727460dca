/* sparkmon: watches the WireGuard remote-access path of a home GPU server.
 * This file is the command-line dispatch only. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "monitor/alertrun.h"
#include "monitor/check.h"
#include "monitor/config.h"
#include "monitor/log.h"
#include "monitor/probetab.h"
#include "monitor/report.h"
#include "monitor/serve.h"
#include "monitor/verdict.h"
#include "monitor/wgdump.h"
#include "probes/routerask.h"
#include "web/json.h"

/* monitoring-plugins exit code for "could not tell", also used for usage errors. */
#define EXIT_USAGE 3

struct command {
	const char *name;
	int (*run)(const char *config_path, int argc, char **argv);
	const char *summary;
};

static void usage(FILE *out);

static int load_config_or_report(const char *path, struct config *cfg)
{
	struct config_errors errors = {0};
	int r = config_load(path, cfg, &errors);

	if (r < 0)
		fputs(errors.text ? errors.text : "configuration error\n", stderr);
	config_errors_free(&errors);
	return r;
}

/* Runs the probes the selected checks need and evaluates them. */
static int collect(const char *path, const struct check_filter *filter, struct config *cfg,
                   struct snapshot **ret_snap, struct verdict **ret_verdict)
{
	struct snapshot *snap;
	struct verdict *verdict;

	if (load_config_or_report(path, cfg) < 0)
		return -EINVAL;
	snap = calloc(1, sizeof(*snap));
	verdict = calloc(1, sizeof(*verdict));
	if (!snap || !verdict) {
		free(snap);
		free(verdict);
		fputs("sparkmon: out of memory\n", stderr);
		return -ENOMEM;
	}
	gethostname(snap->host, sizeof(snap->host) - 1);
	snap->generated_at = time(NULL);
	probetab_run_all(cfg, snap, verdict_probe_mask(filter));
	verdict_evaluate(cfg, snap, filter, verdict);
	*ret_snap = snap;
	*ret_verdict = verdict;
	return 0;
}

static int cmd_check(const char *path, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},       {"quiet", no_argument, NULL, 'q'},
	    {"only", required_argument, NULL, 'o'}, {"changes", no_argument, NULL, 'C'},
	    {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
	};
	struct check_filter filter = {.count = 0};
	bool json = false, quiet = false, changes = false;
	struct snapshot *snap;
	struct verdict *verdict;
	struct config cfg;
	char bad[64];
	int c, code;

	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'C':
			changes = true;
			break;
		case 'o':
			if (verdict_parse_filter(optarg, &filter, bad, sizeof(bad)) < 0) {
				fprintf(stderr,
				        "sparkmon check: unknown check '%s' in --only "
				        "(see sparkmon --help for the ids)\n",
				        bad);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sparkmon check: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (changes && json) {
		fputs("sparkmon check: --changes prints text; --json prints the whole document\n",
		      stderr);
		return EXIT_USAGE;
	}
	if (collect(path, &filter, &cfg, &snap, &verdict) < 0)
		return EXIT_USAGE;
	code = (int)verdict->overall;
	if (changes) {
		struct alertrun run = {.cfg = &cfg,
		                       .verdict = verdict,
		                       .complete = filter.count == 0,
		                       .host = snap->host,
		                       .now = time(NULL),
		                       .out = stdout,
		                       .retry = true};

		/* Whatever happens to the state or the notifications, the exit
		 * code is the checks'. */
		alertrun_round(&run);
	} else if (json) {
		char *doc = json_status_string(&cfg, snap, verdict, 1);

		if (doc)
			puts(doc);
		free(doc);
	} else if (!(quiet && verdict->overall == CHECK_OK)) {
		check_print_text(&cfg, snap, verdict, stdout);
	}
	probetab_release_all(snap);
	free(snap);
	free(verdict);
	return code;
}

static int no_arguments(const char *cmd, int argc, char **argv)
{
	if (argc > 1) {
		fprintf(stderr, "sparkmon %s: unexpected argument '%s'\n", cmd, argv[1]);
		return -EINVAL;
	}
	return 0;
}

static int cmd_status(const char *path, int argc, char **argv)
{
	struct snapshot *snap;
	struct verdict *verdict;
	struct config cfg;

	if (no_arguments("status", argc, argv) < 0)
		return EXIT_USAGE;
	if (collect(path, NULL, &cfg, &snap, &verdict) < 0)
		return EXIT_USAGE;
	report_print(&cfg, snap, verdict, stdout);
	probetab_release_all(snap);
	free(snap);
	free(verdict);
	return 0;
}

static int cmd_config(const char *path, int argc, char **argv)
{
	struct config cfg;

	if (no_arguments("config", argc, argv) < 0)
		return EXIT_USAGE;
	if (load_config_or_report(path, &cfg) < 0)
		return EXIT_USAGE;
	config_print(&cfg, stdout);
	return 0;
}

static int cmd_serve(const char *path, int argc, char **argv)
{
	if (no_arguments("serve", argc, argv) < 0)
		return EXIT_USAGE;
	return serve_run(path);
}

/* Runs the WireGuard probe alone and prints what it read: every interface,
 * peer and allowed IP, as `wg show all dump` lays them out or as the JSON
 * "wireguard" area. Interfaces named on the command line replace the
 * configured list. Exit 0 when every interface was read, 1 when some could
 * not be, 3 on usage or probe errors. */
static int cmd_wireguard(const char *path, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct snapshot *snap;
	struct config cfg;
	bool json = false;
	int c, code = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'j') {
			json = true;
		} else if (c == 'h') {
			usage(stdout);
			return 0;
		} else {
			return EXIT_USAGE;
		}
	}
	if (load_config_or_report(path, &cfg) < 0)
		return EXIT_USAGE;
	if (optind < argc) {
		memset(&cfg.wireguard_interfaces, 0, sizeof(cfg.wireguard_interfaces));
		for (int i = optind; i < argc; i++) {
			struct config_ifnames *names = &cfg.wireguard_interfaces;

			if (strlen(argv[i]) >= CONFIG_IFNAME_SIZE ||
			    names->count == CONFIG_IFNAMES_MAX) {
				fprintf(stderr, "sparkmon wireguard: bad interface name '%s'\n",
				        argv[i]);
				return EXIT_USAGE;
			}
			strcpy(names->names[names->count++], argv[i]);
		}
	}
	snap = calloc(1, sizeof(*snap));
	if (!snap)
		return EXIT_USAGE;
	snap->generated_at = time(NULL);
	probetab_run(PROBE_WIREGUARD, &cfg, snap);
	if (snap->probes[PROBE_WIREGUARD].status != PROBE_OK) {
		fprintf(stderr, "sparkmon wireguard: %s\n", snap->probes[PROBE_WIREGUARD].error);
		code = EXIT_USAGE;
	} else if (json) {
		struct json_object *o = json_wireguard_object(&cfg, &snap->wireguard);

		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
		                                           JSON_C_TO_STRING_SPACED));
		json_object_put(o);
		for (size_t i = 0; i < snap->wireguard.n_devices && !code; i++)
			code = snap->wireguard.devices[i].error ? 1 : 0;
	} else {
		code = wgdump_print(&snap->wireguard, stdout, stderr) ? 1 : 0;
	}
	probetab_release_all(snap);
	free(snap);
	return code;
}

static const struct command commands[] = {
    {"serve", cmd_serve, "run the daemon in the foreground"},
    {"check", cmd_check, "run every probe once; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN"},
    {"status", cmd_status, "print a report for a person at a terminal"},
    {"config", cmd_config, "print the effective configuration, normalized"},
    {"wireguard", cmd_wireguard, "print what was read from WireGuard, as wg show all dump"},
};

static void usage(FILE *out)
{
	fputs("Usage: sparkmon [-c FILE] [-v] COMMAND [OPTIONS]\n\n"
	      "Watches the WireGuard remote-access path and the health of a GPU server.\n\n"
	      "Commands:\n",
	      out);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fputs("\nOptions:\n"
	      "  -c, --config FILE  configuration file (default " CONFIG_DEFAULT_PATH ")\n"
	      "  -v, --verbose      log debug messages\n"
	      "  -h, --help         show this help\n"
	      "  -V, --version      show the version\n\n"
	      "check options:\n"
	      "  --json             print the status document (as /status.json)\n"
	      "  -q, --quiet        print nothing when everything is OK\n"
	      "  --changes          print only what changed since the last --changes run (and\n"
	      "                     send it to [alert] notify), plus a reminder every\n"
	      "                     [alert] remind of what is still not OK\n"
	      "  --only ID[,ID...]  only these checks (an area such as 'memory' selects all of "
	      "it)\n\n"
	      "wireguard options: [--json] [INTERFACE...]\n"
	      "  (default)          one line per interface and peer, as wg show all dump; "
	      "keys\n"
	      "                     sparkmon never holds print as (hidden)\n"
	      "  --json             the status document's \"wireguard\" area\n\n"
	      "Check ids:",
	      out);
	for (size_t i = 0; verdict_check_id(i); i++)
		fprintf(out, " %s", verdict_check_id(i));
	fputs("\n", out);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *config_path = NULL;
	bool verbose = false;
	int c;

	/* '+': stop at the command name; its options are its own. */
	while ((c = getopt_long(argc, argv, "+c:vhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("sparkmon %s\n", SPARKMON_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	log_init(verbose);
	if (optind >= argc) {
		fputs("sparkmon: a command is required\n\n", stderr);
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			argc -= optind;
			argv += optind;
			optind =
			    0; /* glibc: 0 fully resets getopt for the command's own arguments */
			return commands[i].run(config_path, argc, argv);
		}
	}
	/* Not for people, so not in the help: the router probe's child. */
	if (strcmp(argv[optind], ROUTERASK_COMMAND) == 0)
		return routerask_main(argc - optind, argv + optind);
	fprintf(stderr, "sparkmon: unknown command '%s' (try sparkmon --help)\n", argv[optind]);
	return EXIT_USAGE;
}
