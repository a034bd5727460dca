#include <errno.h>
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "monitor/config.h"
#include "probes/readfile.h"
#include "tests/unit/memstream.h"

#define FIXTURES "tests/fixtures/config/"

/* A config filled with a pattern no loader writes, to prove *ret untouched. */
static void poison(struct config *cfg)
{
	memset(cfg, 0xA5, sizeof(*cfg));
}

static bool is_poisoned(const struct config *cfg)
{
	struct config p;

	poison(&p);
	return memcmp(cfg, &p, sizeof(p)) == 0;
}

static char *print_to_string(const struct config *cfg)
{
	struct memstream *m = memstream_open();
	char *text;

	assert_non_null(m);
	config_print(cfg, m->f);
	text = memstream_close(m);
	assert_non_null(text);
	return text;
}

/* Everything after the first line: the first line names the source. */
static const char *after_first_line(const char *text)
{
	size_t first = strcspn(text, "\n");

	return text[first] ? text + first + 1 : text + first;
}

static char *slurp(const char *path)
{
	char *buf = NULL;
	size_t len;

	if (readfile_read(path, 1 << 20, &buf, &len) < 0)
		fail_msg("cannot read %s", path);
	return buf;
}

static size_t count_of(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Every valid fixture prints exactly its golden file, and the printed form
 * parses back to the same configuration and the same text. A new key
 * changes every golden file: regenerate each NAME.golden with
 * `sparkmon -c tests/fixtures/config/NAME.conf config` and read the diff:
 * only the new key may change. */
static void test_golden_files(void **state)
{
	glob_t g;
	size_t checked = 0;

	(void)state;
	assert_int_equal(glob(FIXTURES "*.conf", 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *conf = g.gl_pathv[i];
		char golden_path[512], *golden, *printed, *reprinted;
		struct config cfg, again;
		struct config_errors errors = {0};
		int r;

		snprintf(golden_path, sizeof(golden_path), "%.*s.golden",
		         (int)(strlen(conf) - strlen(".conf")), conf);
		golden = slurp(golden_path);
		r = config_load(conf, &cfg, &errors);
		if (r != 0)
			fail_msg("%s: %s", conf, errors.text ? errors.text : "(no text)");
		assert_int_equal(errors.count, 0);
		assert_string_equal(cfg.source, conf);
		printed = print_to_string(&cfg);
		assert_string_equal(after_first_line(printed), after_first_line(golden));
		assert_true(strncmp(printed, "# ", 2) == 0);
		assert_non_null(strstr(printed, conf));
		assert_true(strstr(printed, conf) < after_first_line(printed));

		r = config_load_string(printed, "printed", &again, &errors);
		if (r != 0)
			fail_msg("%s reprinted: %s", conf, errors.text ? errors.text : "(no text)");
		assert_string_equal(again.source, "printed");
		memcpy(again.source, cfg.source, sizeof(again.source));
		assert_memory_equal(&again, &cfg, sizeof(cfg));
		reprinted = print_to_string(&again);
		assert_string_equal(after_first_line(reprinted), after_first_line(printed));
		free(reprinted);
		free(printed);
		free(golden);
		checked++;
	}
	globfree(&g);
	assert_true(checked >= 4);
}

static void test_defaults_print_round_trip(void **state)
{
	struct config def, back;
	struct config_errors errors = {0};
	char *printed, *reprinted;

	(void)state;
	config_defaults(&def);
	assert_int_equal(def.interval_ms, 5000);
	assert_string_equal(def.root, "/");
	assert_int_equal(def.memory_warning_bp, 1000);
	assert_int_equal(def.memory_critical_bp, 500);
	assert_true(def.forwarding_check_persistent);
	printed = print_to_string(&def);
	assert_true(strncmp(printed,
	                    "# sparkmon configuration, normalized (source: built-in defaults)\n",
	                    65) == 0);
	/* Each section once, each key under its section with its default. */
	assert_non_null(strstr(printed, "\n[general]\n# how often the cheap probes run\n"
	                                "interval = 5s\n# prefix for /proc, /etc, /run and "
	                                "/usr/lib (tests point it at fixtures)\nroot = /\n"));
	assert_non_null(strstr(printed, "\nstate_dir = /var/lib/sparkmon\n"));
	assert_non_null(strstr(printed, "\n[memory]\n# WARNING when available memory falls below "
	                                "this share of total\nwarning_below = 10%\n# CRITICAL "
	                                "when available memory falls below this share of "
	                                "total\ncritical_below = 5%\n"));
	assert_non_null(strstr(printed, "\n[forwarding]\n# warn when net.ipv4.ip_forward is on "
	                                "now but would be off after a reboot\n"
	                                "check_persistent = yes\n"));
	assert_int_equal(count_of(printed, "\n[general]\n"), 1);
	assert_int_equal(count_of(printed, "\n[memory]\n"), 1);
	assert_int_equal(count_of(printed, "\n[forwarding]\n"), 1);
	assert_int_equal(config_load_string(printed, "x", &back, &errors), 0);
	reprinted = print_to_string(&back);
	assert_string_equal(after_first_line(reprinted), after_first_line(printed));
	free(printed);
	free(reprinted);
}

/* One rejected input: the exact messages, and *ret untouched. */
struct rejected {
	const char *text;
	const char *errors;
	size_t count;
};

static const struct rejected rejected_inputs[] = {
    {"[general]\ninterval = 5s\n[bogus]\nkey = 1\n", "bad.conf:3: unknown section [bogus]\n", 1},
    /* An unknown section is refused even when it holds no key. */
    {"[memory]\nwarning_below = 20%\n[memroy]\n", "bad.conf:3: unknown section [memroy]\n", 1},
    {"interval = 5s\nroot = /x\n[general]\n",
     "bad.conf:1: 'interval' is outside any [section]\n"
     "bad.conf:2: 'root' is outside any [section]\n",
     2},
    {"[general]\nintervall = 5s\n", "bad.conf:2: unknown key 'intervall' in [general]\n", 1},
    {"[http]\nauth_user = admin\n",
     "bad.conf:2: auth_user needs auth_bcrypt (the password's bcrypt hash)\n", 1},
    {"[http]\nauth_user = admin\nauth_bcrypt = $2b$12$short\n",
     "bad.conf:3: auth_bcrypt: not a bcrypt hash ($2b$12$ and 53 more characters; make one "
     "with htpasswd -nbB user password)\n",
     1},
    {"[http]\nauth_bcrypt = $2y$05$abcdefghijklmnopqrstuvABCDEFGHIJKLMNOPQRSTUVWXYZ01234\n",
     "bad.conf:2: auth_bcrypt needs auth_user\n", 1},
    {"[http]\ntls_key = /etc/sparkmon/key.pem\n",
     "bad.conf:2: tls_cert and tls_key go together: set both or neither\n", 1},
    {"[endpoint]\nip_urls = ftp://example.net/ip\n",
     "bad.conf:2: ip_urls: 'ftp://example.net/ip' is not a list of at most 8 http:// or "
     "https:// URLs (each shorter than 256 bytes)\n",
     1},
    {"[endpoint]\nprobes = https://a.example/, example.net\n",
     "bad.conf:2: probes: 'https://a.example/, example.net' is not a list of at most 8 "
     "http:// or https:// URLs (each shorter than 256 bytes)\n",
     1},
    {"[endpoint]\nprobes = http:// https://b.example/\n",
     "bad.conf:2: probes: 'http:// https://b.example/' is not a list of at most 8 http:// or "
     "https:// URLs (each shorter than 256 bytes)\n",
     1},
    {"[endpoint]\nprobes = http://1/ http://2/ http://3/ http://4/ http://5/ http://6/ "
     "http://7/ http://8/ http://9/\n",
     "bad.conf:2: probes: 'http://1/ http://2/ http://3/ http://4/ http://5/ http://6/ "
     "http://7/ http://8/ http://9/' is not a list of at most 8 http:// or https:// URLs "
     "(each shorter than 256 bytes)\n",
     1},
    {"[memory]\ninterval = 5s\n", "bad.conf:2: unknown key 'interval' in [memory]\n", 1},
    {"[general]\ninterval = 5s\n\ninterval = 10s\n",
     "bad.conf:4: interval: set again (first set on line 2)\n", 1},
    /* Set again in a second [general] block is still a duplicate. */
    {"[general]\nroot = /a\n[memory]\n[general]\nroot = /b\n",
     "bad.conf:5: root: set again (first set on line 2)\n", 1},
    {"[general]\ninterval = 5\n",
     "bad.conf:2: interval: '5' is not a duration (examples: 500ms, 5s, 2m, 1h)\n", 1},
    {"[general]\ninterval = 5 s\n",
     "bad.conf:2: interval: '5 s' is not a duration (examples: 500ms, 5s, 2m, 1h)\n", 1},
    {"[general]\ninterval = 1.5s\n",
     "bad.conf:2: interval: '1.5s' is not a duration (examples: 500ms, 5s, 2m, 1h)\n", 1},
    {"[general]\ninterval = -5s\n",
     "bad.conf:2: interval: '-5s' is not a duration (examples: 500ms, 5s, 2m, 1h)\n", 1},
    {"[general]\ninterval =\n",
     "bad.conf:2: interval: '' is not a duration (examples: 500ms, 5s, 2m, 1h)\n", 1},
    {"[general]\ninterval = 99999999999999999999s\n",
     "bad.conf:2: interval: '99999999999999999999s' is not a duration (examples: 500ms, 5s, "
     "2m, 1h)\n",
     1},
    {"[general]\ninterval = 500ms\n", "bad.conf:2: interval: 500ms is out of range (1s..1h)\n", 1},
    {"[general]\ninterval = 1h1s\n", "bad.conf:2: interval: 1h1s is out of range (1s..1h)\n", 1},
    {"[general]\ninterval = 0s\n", "bad.conf:2: interval: 0s is out of range (1s..1h)\n", 1},
    {"[memory]\nwarning_below = 10\n",
     "bad.conf:2: warning_below: '10' is not a percentage between 0.01% and 99.99% (example: "
     "10%)\n",
     1},
    {"[memory]\nwarning_below = 150%\n",
     "bad.conf:2: warning_below: '150%' is not a percentage between 0.01% and 99.99% (example: "
     "10%)\n",
     1},
    {"[memory]\nwarning_below = 100%\n",
     "bad.conf:2: warning_below: '100%' is not a percentage between 0.01% and 99.99% (example: "
     "10%)\n",
     1},
    {"[memory]\ncritical_below = 0%\n",
     "bad.conf:2: critical_below: '0%' is not a percentage between 0.01% and 99.99% (example: "
     "10%)\n",
     1},
    /* Messages come in the order of the file's lines, cross-checks too. */
    {"[memory]\nwarning_below = 3%\n[bogus]\nk = 1\n",
     "bad.conf:2: critical_below (5%) must be lower than warning_below (3%)\n"
     "bad.conf:3: unknown section [bogus]\n",
     2},
    /* A refused value is not compared with its pair: one error, not two. */
    {"[memory]\nwarning_below = 3%\ncritical_below = 200%\n",
     "bad.conf:3: critical_below: '200%' is not a percentage between 0.01% and 99.99% "
     "(example: 10%)\n",
     1},
    {"[gpu]\ntemperature_warning = 100\ntemperature_critical = 500\n",
     "bad.conf:3: temperature_critical: '500' is not a number between 1 and 200\n", 1},
    {"[memory]\ncritical_below = 1.234%\n",
     "bad.conf:2: critical_below: '1.234%' is not a percentage between 0.01% and 99.99% "
     "(example: 10%)\n",
     1},
    {"[memory]\ncritical_below = .5%\n",
     "bad.conf:2: critical_below: '.5%' is not a percentage between 0.01% and 99.99% (example: "
     "10%)\n",
     1},
    {"[memory]\ncritical_below = 5.%\n",
     "bad.conf:2: critical_below: '5.%' is not a percentage between 0.01% and 99.99% (example: "
     "10%)\n",
     1},
    {"[memory]\ncritical_below = 99999999999999999999999%\n",
     "bad.conf:2: critical_below: '99999999999999999999999%' is not a percentage between 0.01% "
     "and 99.99% (example: 10%)\n",
     1},
    {"[memory]\nwarning_below = 5%\ncritical_below = 5%\n",
     "bad.conf:3: critical_below (5%) must be lower than warning_below (5%)\n", 1},
    {"[memory]\ncritical_below = 20%\nwarning_below = 10%\n",
     "bad.conf:2: critical_below (20%) must be lower than warning_below (10%)\n", 1},
    /* Only warning_below set, below the default critical: its line is named. */
    {"[memory]\n\nwarning_below = 3%\n",
     "bad.conf:3: critical_below (5%) must be lower than warning_below (3%)\n", 1},
    {"[general]\nroot = relative/path\n",
     "bad.conf:2: root: 'relative/path' is not an absolute path\n", 1},
    {"[general]\nstate_dir = ~/sparkmon\n",
     "bad.conf:2: state_dir: '~/sparkmon' is not an absolute path\n", 1},
    {"[forwarding]\ncheck_persistent = maybe\n",
     "bad.conf:2: check_persistent: 'maybe' is not a boolean (yes or no)\n", 1},
    {"[ssh]\nenabled = sometimes\n", "bad.conf:2: enabled: 'sometimes' is not auto, yes or no\n",
     1},
    {"[ssh]\nport = 65536\n", "bad.conf:2: port: '65536' is not a number between 0 and 65535\n", 1},
    {"[general\n[memory]\nwarning_below = 20%\n",
     "bad.conf:1: syntax error: expected '[section]' or 'key = value'\n", 1},
    {"[general]\njust some words\n",
     "bad.conf:2: syntax error: expected '[section]' or 'key = value'\n", 1},
    /* Every problem is reported, not only the first. */
    {"[general]\ninterval = 5\nroot = x\n[memory]\nwarning_below = 200%\nfoo = bar\n",
     "bad.conf:2: interval: '5' is not a duration (examples: 500ms, 5s, 2m, 1h)\n"
     "bad.conf:3: root: 'x' is not an absolute path\n"
     "bad.conf:5: warning_below: '200%' is not a percentage between 0.01% and 99.99% "
     "(example: 10%)\n"
     "bad.conf:6: unknown key 'foo' in [memory]\n",
     4},
};

static void test_rejected_inputs(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rejected_inputs) / sizeof(rejected_inputs[0]); i++) {
		const struct rejected *t = &rejected_inputs[i];
		struct config_errors errors = {0};
		struct config cfg;
		int r;

		poison(&cfg);
		r = config_load_string(t->text, "bad.conf", &cfg, &errors);
		if (r != -EINVAL)
			fail_msg("input %zu: returned %d, expected -EINVAL", i, r);
		if (!errors.text || strcmp(errors.text, t->errors) != 0)
			fail_msg("input %zu:\n got: %s\nwant: %s", i,
			         errors.text ? errors.text : "(none)", t->errors);
		assert_int_equal(errors.count, t->count);
		assert_true(is_poisoned(&cfg));
		config_errors_free(&errors);
		assert_null(errors.text);
	}
}

/* libinih reads lines into a 200-byte buffer; a longer line must not be
 * split into two silently. */
static void test_line_length(void **state)
{
	char text[512], expect[128];
	struct config_errors errors = {0};
	struct config cfg;
	size_t prefix;

	(void)state;
	/* Exactly 198 characters before the newline: accepted. */
	prefix = (size_t)snprintf(text, sizeof(text), "[general]\nroot = /");
	memset(text + prefix, 'a', 198 - (prefix - strlen("[general]\n")));
	strcpy(text + strlen("[general]\n") + 198, "\n");
	assert_int_equal(config_load_string(text, "long.conf", &cfg, &errors), 0);
	assert_int_equal(strlen(cfg.root), 198 - strlen("root = "));

	/* One more: refused with its line, nothing applied. */
	prefix = (size_t)snprintf(text, sizeof(text), "[general]\nroot = /");
	memset(text + prefix, 'a', 199 - (prefix - strlen("[general]\n")));
	strcpy(text + strlen("[general]\n") + 199, "\n[memory]\nwarning_below = 20%\n");
	poison(&cfg);
	assert_int_equal(config_load_string(text, "long.conf", &cfg, &errors), -EINVAL);
	snprintf(expect, sizeof(expect), "long.conf:2: line too long (at most 198 characters)\n");
	assert_string_equal(errors.text, expect);
	assert_int_equal(errors.count, 1);
	assert_true(is_poisoned(&cfg));
	config_errors_free(&errors);
}

/* libinih keeps 49 characters of a section name and cuts the rest
 * silently: a longer [peer NAME] is refused at its header, its keys with
 * it, never applied under a cut name. */
static void test_section_name_length(void **state)
{
	static const char key[] = "public_key = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
	char name[64], text[512], expect[256];
	struct config_errors errors = {0};
	struct config cfg;

	(void)state;
	/* 44 characters: the longest name, kept whole. */
	memset(name, 'n', 44);
	name[44] = '\0';
	snprintf(text, sizeof(text), "[peer %s]\n%s", name, key);
	assert_int_equal(config_load_string(text, "peers.conf", &cfg, &errors), 0);
	assert_int_equal(cfg.n_peers, 1);
	assert_string_equal(cfg.peers[0].name, name);

	/* 45 and 60: file:line errors, nothing applied, nothing more said. */
	for (size_t len = 45; len <= 60; len += 15) {
		memset(name, 'n', len);
		name[len] = '\0';
		snprintf(text, sizeof(text),
		         "[general]\ninterval = 5s\n\n[peer %s]\n%srequired = yes\n", name, key);
		poison(&cfg);
		assert_int_equal(config_load_string(text, "peers.conf", &cfg, &errors), -EINVAL);
		snprintf(
		    expect, sizeof(expect),
		    "peers.conf:4: [peer %.44s...]: a peer name is at most 44 characters, this "
		    "one has %zu\n",
		    name, len);
		assert_string_equal(errors.text, expect);
		assert_int_equal(errors.count, 1);
		assert_true(is_poisoned(&cfg));
		config_errors_free(&errors);
	}

	/* Any other section too long for libinih. */
	memset(name, 's', 50);
	name[50] = '\0';
	snprintf(text, sizeof(text), "[%s]\nkey = 1\n", name);
	assert_int_equal(config_load_string(text, "long.conf", &cfg, &errors), -EINVAL);
	snprintf(expect, sizeof(expect),
	         "long.conf:1: [%.49s...]: a section name is at most 49 characters, this one has "
	         "50\n",
	         name);
	assert_string_equal(errors.text, expect);
	config_errors_free(&errors);
}

/* Loads `len` bytes of `content` from a temporary file: the load must fail
 * with `r`, leave the config untouched and report the file's path followed
 * by `after_path`. */
static void assert_file_error(const char *content, size_t len, int r, const char *after_path)
{
	char path[] = "/tmp/sparkmon-test-config-XXXXXX", expect[256];
	struct config_errors errors = {0};
	struct config cfg;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	close(fd);
	poison(&cfg);
	assert_int_equal(config_load(path, &cfg, &errors), r);
	snprintf(expect, sizeof(expect), "%s%s", path, after_path);
	assert_string_equal(errors.text, expect);
	assert_true(is_poisoned(&cfg));
	config_errors_free(&errors);
	unlink(path);
}

static void test_nul_byte(void **state)
{
	static const char content[] = "[general]\ninterval = 5s\0\n";

	(void)state;
	assert_file_error(content, sizeof(content) - 1, -EINVAL,
	                  ": contains a NUL byte: not a text file\n");
}

/* What the collector read, parsed in the web process: bytes without a NUL
 * at the end, a read error with the file's name, a NUL inside. */
static void test_load_read_bytes(void **state)
{
	static const char text[] = "[general]\ninterval = 7s\nJUNK";
	struct config_errors errors = {0};
	struct config cfg;

	(void)state;
	/* Only the first 24 bytes are the file: "JUNK" must not be read. */
	assert_int_equal(config_load_read("/etc/x.conf", 0, text, 24, &cfg, &errors), 0);
	assert_int_equal(cfg.interval_ms, 7000);
	assert_string_equal(cfg.source, "/etc/x.conf");
	assert_int_equal(config_load_read("/etc/x.conf", 0, text, sizeof(text) - 1, &cfg, &errors),
	                 -EINVAL);
	assert_non_null(strstr(errors.text, "/etc/x.conf:3: syntax error"));
	config_errors_free(&errors);
	memset(&errors, 0, sizeof(errors));
	poison(&cfg);
	assert_int_equal(config_load_read("/etc/x.conf", -EACCES, NULL, 0, &cfg, &errors), -EACCES);
	assert_string_equal(errors.text, "/etc/x.conf: Permission denied\n");
	assert_true(is_poisoned(&cfg));
	config_errors_free(&errors);
	memset(&errors, 0, sizeof(errors));
	assert_int_equal(config_load_read("/etc/x.conf", 0, "a\0b", 3, &cfg, &errors), -EINVAL);
	assert_string_equal(errors.text, "/etc/x.conf: contains a NUL byte: not a text file\n");
	config_errors_free(&errors);
}

static void test_missing_file_given(void **state)
{
	struct config_errors errors = {0};
	struct config cfg;

	(void)state;
	poison(&cfg);
	assert_int_equal(config_load(FIXTURES "does-not-exist.conf", &cfg, &errors), -ENOENT);
	assert_string_equal(errors.text,
	                    FIXTURES "does-not-exist.conf: No such file or directory\n");
	assert_int_equal(errors.count, 1);
	assert_true(is_poisoned(&cfg));
	config_errors_free(&errors);
}

static void test_file_errors_name_file_and_line(void **state)
{
	static const char content[] = "[general]\n\ninterval = soon\n";

	(void)state;
	assert_file_error(content, sizeof(content) - 1, -EINVAL,
	                  ":3: interval: 'soon' is not a duration (examples: 500ms, 5s, 2m, 1h)\n");
}

/* No file at the default path means the built-in defaults. The test needs a
 * machine without /etc/sparkmon/sparkmon.conf, and says so when it has one. */
static void test_missing_default_file(void **state)
{
	struct config_errors errors = {0};
	struct config cfg, def;

	(void)state;
	if (access(CONFIG_DEFAULT_PATH, F_OK) == 0 || errno != ENOENT)
		fail_msg("%s exists on this machine: this test needs it absent",
		         CONFIG_DEFAULT_PATH);
	poison(&cfg);
	assert_int_equal(config_load(NULL, &cfg, &errors), 0);
	assert_int_equal(errors.count, 0);
	config_defaults(&def);
	assert_memory_equal(&cfg, &def, sizeof(cfg));
	assert_string_equal(cfg.source, "");
}

static void test_durations(void **state)
{
	static const struct {
		const char *text;
		int r;
		uint64_t ms;
	} cases[] = {
	    {"500ms", 0, 500},
	    {"5s", 0, 5000},
	    {"5m", 0, 300000},
	    {"5ms", 0, 5},
	    {"1m30s", 0, 90000},
	    {"1h2m3s4ms", 0, 3723004},
	    {"2d", 0, 172800000},
	    {"0s", 0, 0},
	    {"007s", 0, 7000},
	    {"18446744073709551615ms", 0, UINT64_MAX},
	    {"18446744073709551616ms", -ERANGE, 0},
	    {"99999999999999999999ms", -ERANGE, 0},
	    /* Fits as a number, overflows once multiplied. */
	    {"18446744073709552s", -ERANGE, 0},
	    {"213503982336d", -ERANGE, 0},
	    /* Fits alone, overflows when the groups are added. */
	    {"18446744073709551615ms1ms", -ERANGE, 0},
	    {"5", -EINVAL, 0},
	    {"", -EINVAL, 0},
	    {"s", -EINVAL, 0},
	    {"5S", -EINVAL, 0},
	    {"5sec", -EINVAL, 0},
	    {"1.5s", -EINVAL, 0},
	    {"-1s", -EINVAL, 0},
	    {"+1s", -EINVAL, 0},
	    {" 1s", -EINVAL, 0},
	    {"1s ", -EINVAL, 0},
	    {"5w", -EINVAL, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t ms = 12345;
		int r = config_parse_duration_ms(cases[i].text, &ms);

		if (r != cases[i].r)
			fail_msg("'%s': returned %d, expected %d", cases[i].text, r, cases[i].r);
		if (r == 0 && ms != cases[i].ms)
			fail_msg("'%s': %llu ms, expected %llu", cases[i].text,
			         (unsigned long long)ms, (unsigned long long)cases[i].ms);
		if (r < 0 && ms != 12345)
			fail_msg("'%s': output written on error", cases[i].text);
	}
}

static void test_format_duration(void **state)
{
	static const struct {
		uint64_t ms;
		const char *text;
	} cases[] = {
	    {0, "0ms"},
	    {1, "1ms"},
	    {1500, "1500ms"},
	    {1000, "1s"},
	    {90000, "90s"},
	    {120000, "2m"},
	    {3600000, "1h"},
	    {5400000, "90m"},
	    {86400000, "1d"},
	    {90000000, "25h"},
	    {UINT64_MAX, "18446744073709551615ms"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[32];
		uint64_t back;

		config_format_duration(cases[i].ms, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].text);
		/* What is printed parses back to the same value. */
		assert_int_equal(config_parse_duration_ms(buf, &back), 0);
		assert_true(back == cases[i].ms);
	}
}

/* Percentages go through the INI path (the parser is file-local). */
static void test_percentages(void **state)
{
	static const struct {
		const char *text;
		uint32_t bp;
	} ok[] = {
	    {"10%", 1000},    {"7.5%", 750},    {"0.25%", 25},  {"0.01%", 1},
	    {"99.99%", 9999}, {"50.10%", 5010}, {"050%", 5000}, {"12.3%", 1230},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char text[128];
		struct config_errors errors = {0};
		struct config cfg;

		snprintf(text, sizeof(text),
		         "[memory]\nwarning_below = %s\ncritical_below = 0.01%%\n", ok[i].text);
		if (ok[i].bp == 1)
			snprintf(text, sizeof(text), "[memory]\ncritical_below = %s\n", ok[i].text);
		if (config_load_string(text, "p.conf", &cfg, &errors) != 0)
			fail_msg("'%s' refused: %s", ok[i].text, errors.text ? errors.text : "");
		if (ok[i].bp == 1)
			assert_int_equal(cfg.memory_critical_bp, 1);
		else
			assert_int_equal(cfg.memory_warning_bp, ok[i].bp);
	}
}

static void test_load_string_keeps_earlier_errors(void **state)
{
	struct config_errors errors = {0};
	struct config cfg;

	(void)state;
	/* A second, valid load with errors already collected still succeeds:
	 * only its own problems count. */
	assert_int_equal(config_load_string("[bogus]\n", "a.conf", &cfg, &errors), -EINVAL);
	assert_int_equal(errors.count, 1);
	assert_int_equal(config_load_string("[general]\ninterval = 7s\n", "b.conf", &cfg, &errors),
	                 0);
	assert_int_equal(cfg.interval_ms, 7000);
	assert_string_equal(errors.text, "a.conf:1: unknown section [bogus]\n");
	config_errors_free(&errors);
	config_errors_free(&errors); /* twice is fine */
	config_errors_free(NULL);
}

static void test_config_path(void **state)
{
	struct config cfg;
	char buf[64];

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_path(&cfg, "/proc/meminfo", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/proc/meminfo");
	strcpy(cfg.root, "/srv/root");
	assert_int_equal(config_path(&cfg, "/proc/meminfo", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/srv/root/proc/meminfo");
	assert_int_equal(config_path(&cfg, "/proc/meminfo", buf, 22), -ENAMETOOLONG);
	assert_int_equal(config_path(&cfg, "/proc/meminfo", buf, 23), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden_files),
	    cmocka_unit_test(test_defaults_print_round_trip),
	    cmocka_unit_test(test_rejected_inputs),
	    cmocka_unit_test(test_line_length),
	    cmocka_unit_test(test_section_name_length),
	    cmocka_unit_test(test_nul_byte),
	    cmocka_unit_test(test_load_read_bytes),
	    cmocka_unit_test(test_missing_file_given),
	    cmocka_unit_test(test_file_errors_name_file_and_line),
	    cmocka_unit_test(test_missing_default_file),
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_format_duration),
	    cmocka_unit_test(test_percentages),
	    cmocka_unit_test(test_load_string_keeps_earlier_errors),
	    cmocka_unit_test(test_config_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
