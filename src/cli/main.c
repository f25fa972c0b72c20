#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

struct command {
	const char *name;
	const char *args;
	const char *help;
	int (*run)(struct cli_opts *o);
};

static const struct command commands[] = {
	{"info", "CORE", "overview: Go version, threads, goroutines by state, heap spans", cmd_info},
	{"histogram", "CORE", "live heap by type: count, bytes, retained bytes", cmd_histogram},
	{"top", "CORE", "largest retainers, roots and objects, by retained size (--depth N)", cmd_top},
	{"path", "CORE ADDR", "all shortest paths from the roots to the object at ADDR", cmd_path},
	{"object", "CORE ADDR", "one heap object: type, size, fields, pointees, who points to it", cmd_object},
	{"goroutines", "CORE", "goroutines grouped by stack and state (--all: each, as the runtime prints them)", cmd_goroutines},
	{"goroutine", "CORE ID", "one goroutine whole: state, wait, creator, stack, what it is blocked on", cmd_goroutine},
	{"map", "CORE GLOBAL|ADDR", "a map's entries, capacity and storage (ADDR needs --type)", cmd_map},
	{"report", "CORE", "leaks found, ranked by waste: findings with holder and fix (--fail-on for pipelines)", cmd_report},
	{"types", "CORE [ADDR...]", "how much of the live heap is typed and from what evidence; the type and provenance of objects (--limit N: N untyped ones)", cmd_types},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: goautopsy COMMAND CORE [options]\n\n"
		   "CORE is an ELF core file (plain or zstd-compressed), or - for standard input.\n\n"
		   "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %-18s %s\n", commands[i].name, commands[i].args, commands[i].help);
	fprintf(f, "\noptions:\n"
		   "  --exe PATH         the executable that ran (default: the path the core names)\n"
		   "  --json             machine-readable output\n"
		   "  --tmpdir DIR       where compressed or piped cores are expanded (default $TMPDIR or /tmp)\n"
		   "  --allow-truncated  read what a truncated core still holds\n"
		   "  --no-exe-check     do not compare the executable with the core\n"
		   "  --type TYPE        Go type of the value at an address, e.g. 'map[int]string'\n"
		   "  --all              goroutines: list each goroutine instead of groups\n"
		   "  --state S          goroutines: only status S (running, runnable, syscall, waiting, ...)\n"
		   "  --reason R         goroutines: only wait reasons containing R\n"
		   "  --func F           goroutines: only stacks with a function containing F\n"
		   "  --blocked-on K     goroutines: only those blocked on K (chan_receive, mutex, ...)\n"
		   "  --user             goroutines: leave out the runtime's own goroutines\n"
		   "  --depth N          top: expand each retainer N levels down the dominator tree\n"
		   "  --conservative-stacks  heap: scan goroutine stacks word by word, not by stack maps\n"
		   "  --limit N          histogram, top: at most N rows (default 30)\n"
		   "  --from ROOT        path: only paths from this root (\"main.cache\", \"goroutine 17\")\n"
		   "  --min-waste SIZE   report: smallest waste reported (default 1M)\n"
		   "  --min-ratio R      report: smallest waste / pinned size reported (default 0.75)\n"
		   "  --fail-on SPEC     report: exit 3 when a finding matches KIND, SEVERITY, any or waste>SIZE\n"
		   "                     (comma-separated); --all also lists suppressed candidates\n"
		   "  -h, --help         this help\n");
}

int cli_fail(struct ga_error *err)
{
	fprintf(stderr, "goautopsy: %s\n", ga_error_message(err));
	int code = err->code == GA_ERR_USAGE ? 2 : 1;
	ga_error_destroy(err);
	return code;
}

struct ga_error *cli_open(const struct cli_opts *o, struct ga_session **s)
{
	struct ga_session_options so = {
		.exe_path = o->exe,
		.tmpdir = o->tmpdir,
		.allow_truncated = o->allow_truncated,
		.skip_exe_check = o->no_exe_check,
		.conservative_stacks = o->conservative_stacks,
		.type_provenance = o->type_provenance,
	};
	return ga_session_open(o->core, &so, s);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	const struct command *cmd = NULL;
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(argv[1], commands[i].name))
			cmd = &commands[i];
	if (!cmd) {
		fprintf(stderr, "goautopsy: unknown command \"%s\" (goautopsy --help lists them)\n", argv[1]);
		return 2;
	}
	struct cli_opts o = {0};
	static const struct option longopts[] = {
		{"exe", required_argument, NULL, 'e'},
		{"json", no_argument, NULL, 'j'},
		{"tmpdir", required_argument, NULL, 't'},
		{"allow-truncated", no_argument, NULL, 'T'},
		{"no-exe-check", no_argument, NULL, 'N'},
		{"conservative-stacks", no_argument, NULL, 'C'},
		{"type", required_argument, NULL, 'y'},
		{"all", no_argument, NULL, 'A'},
		{"state", required_argument, NULL, 'S'},
		{"reason", required_argument, NULL, 'R'},
		{"func", required_argument, NULL, 'F'},
		{"blocked-on", required_argument, NULL, 'B'},
		{"user", no_argument, NULL, 'U'},
		{"depth", required_argument, NULL, 'D'},
		{"limit", required_argument, NULL, 'L'},
		{"from", required_argument, NULL, 'f'},
		{"min-waste", required_argument, NULL, 'W'},
		{"min-ratio", required_argument, NULL, 'Q'},
		{"fail-on", required_argument, NULL, 'X'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	/* getopt permutes: positional arguments end up after the options. */
	int c;
	optind = 2;
	while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1 || optind < argc) {
		if (c == -1) {
			/* a positional argument: keep it and go on */
			argv[2 + o.argc] = argv[optind];
			o.argc++;
			optind++;
			continue;
		}
		switch (c) {
		case 'e': o.exe = optarg; break;
		case 'j': o.json = true; break;
		case 't': o.tmpdir = optarg; break;
		case 'T': o.allow_truncated = true; break;
		case 'N': o.no_exe_check = true; break;
		case 'C': o.conservative_stacks = true; break;
		case 'y': o.type = optarg; break;
		case 'A': o.all = true; break;
		case 'S': o.state = optarg; break;
		case 'R': o.reason = optarg; break;
		case 'F': o.func = optarg; break;
		case 'B': o.blocked_on = optarg; break;
		case 'U': o.user_only = true; break;
		case 'D': o.depth = atoi(optarg); break;
		case 'L': o.limit = atol(optarg); break;
		case 'f': o.from = optarg; break;
		case 'W': o.min_waste = optarg; break;
		case 'Q': o.min_ratio = optarg; break;
		case 'X': o.fail_on = optarg; break;
		case 'h': usage(stdout); return 0;
		case ':':
			fprintf(stderr, "goautopsy: option %s needs a value\n", argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "goautopsy: unknown option %s\n", argv[optind - 1]);
			return 2;
		}
	}
	o.argv = argv + 2;
	if (o.argc < 1) {
		fprintf(stderr, "goautopsy: %s needs a core file (goautopsy %s %s)\n", cmd->name,
			cmd->name, cmd->args);
		return 2;
	}
	o.core = o.argv[0];
	o.argv++;
	o.argc--;
	return cmd->run(&o);
}
