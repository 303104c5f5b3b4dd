/* events: one stats object (--stats), or a stream of JSON lines (stats
 * every --interval, oom as it happens) until the container stops. */
#include "config.h"
#include "cmd/cmd.h"
#include "runtime/container.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

/* Each event is flushed at once: engines read the stream line by line. */
static int print_line(const char *json, void *data)
{
	FILE *f = data;

	if (fputs(json, f) == EOF || fputc('\n', f) == EOF || fflush(f) == EOF)
		return -1;
	return 0;
}

int cmd_events(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err)
{
	enum { O_STATS = 256, O_INTERVAL };
	static const struct option opts[] = {
		{ "stats", no_argument, NULL, O_STATS },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ NULL, 0, NULL, 0 },
	};
	long long interval_ms = 5000;
	bool stats = false;
	int c;

	while ((c = getopt_long_only(argc, argv, "+", opts, NULL)) != -1) {
		if (c == O_STATS)
			stats = true;
		else if (c == O_INTERVAL && rt_parse_duration_ms(optarg, &interval_ms) < 0)
			return cmd_usage_error(err, "events", "--interval %s: not a duration like 5s "
					       "or 500ms", optarg);
		else if (c != O_INTERVAL)
			return cmd_usage_error(err, "events", "bad option");
	}
	if (optind != argc - 1)
		return cmd_usage_error(err, "events", "expected exactly one container id");
	/* A closed reader ends the stream with an error, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	return rt_container_events(g->root, argv[optind], stats, interval_ms, print_line, stdout,
				   err) < 0 ? -1 : 0;
}
