/* Shared by memtop's benchmark workloads (test/bench/workloads/mb_*.c).
 *
 * Every workload is run as `mb_<name> <events> <events_per_sec> [extra...]`:
 *   events          how many events to do, 0 for "until killed" (the cost and latency sections)
 *   events_per_sec  0 for as fast as it can (the overhead section), else a steady pace
 * It sets itself up (files, memory), prints `{"phase":"ready",...}`, then waits for a line (or
 * end of file) on stdin, so that the bench can attach a tracer first, then does the events,
 * timing only them with CLOCK_MONOTONIC, and prints `{"phase":"done","ns":...,"cpuNs":...,
 * "events":...,"majflt":...}` (cpuNs: user+system CPU time of the timed loop, which includes
 * the probes that fire in this process's context; majflt: its major faults; both from
 * getrusage). Lines are written
 * with one write(2) each, no stdio buffering, so the reports call no malloc.
 */
#ifndef MEMTOP_BENCH_H
#define MEMTOP_BENCH_H

#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct bench_args {
	long events;
	double events_per_sec;
	int extra_count;
	char **extra;
};

static void mb_die(const char *what)
{
	dprintf(2, "%s: %s\n", what, strerror(errno));
	exit(1);
}

static double mb_number(const char *text, const char *name)
{
	char *end;
	double value = strtod(text, &end);
	if (end == text || *end != '\0' || value < 0) {
		dprintf(2, "%s must be a non-negative number, got '%s'\n", name, text);
		exit(2);
	}
	return value;
}

static struct bench_args mb_args(int argc, char **argv, const char *name)
{
	struct bench_args args;
	if (argc < 3) {
		dprintf(2, "usage: %s <events (0: until killed)> <events_per_sec (0: unpaced)> [extra...]\n", name);
		exit(2);
	}
	args.events = (long)mb_number(argv[1], "events");
	args.events_per_sec = mb_number(argv[2], "events_per_sec");
	args.extra_count = argc - 3;
	args.extra = argv + 3;
	prctl(PR_SET_NAME, name, 0, 0, 0);
	/* Die with the bench even when it is killed outright. */
	prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0);
	return args;
}

static long mb_now_ns(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec * 1000000000L + now.tv_nsec;
}

static long mb_majflt(void)
{
	struct rusage usage;
	getrusage(RUSAGE_SELF, &usage);
	return usage.ru_majflt;
}

static long mb_cpu_ns(void)
{
	struct rusage usage;
	getrusage(RUSAGE_SELF, &usage);
	return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000000L +
	       (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1000L;
}

static void mb_report(const char *format, ...)
{
	char line[512];
	va_list list;
	int length;
	va_start(list, format);
	length = vsnprintf(line, sizeof line - 1, format, list);
	va_end(list);
	if (length < 0)
		return;
	if (length > (int)sizeof line - 2)
		length = (int)sizeof line - 2;
	line[length++] = '\n';
	if (write(1, line, (size_t)length) < 0)
		mb_die("write");
}

/* Wait for the bench's go: one line on stdin, or end of file. */
static void mb_wait_for_go(void)
{
	char byte;
	while (read(0, &byte, 1) == 1 && byte != '\n')
		;
}

/* When paced, sleep until event `index` is due; checked every 64 events so that a fast loop pays
 * for few clock reads, and every event below 1,000 a second, so that a slow one is steady rather
 * than a burst of 64 events every few seconds. */
static void mb_pace(const struct bench_args *args, long start_ns, long index)
{
	long due, now;
	if (args->events_per_sec <= 0 || (args->events_per_sec >= 1000 && (index & 63) != 0))
		return;
	due = start_ns + (long)((double)index * 1e9 / args->events_per_sec);
	now = mb_now_ns();
	if (due - now > 1000000) {
		struct timespec pause = {(due - now) / 1000000000L, (due - now) % 1000000000L};
		nanosleep(&pause, NULL);
	}
}

/* The loop every workload runs: `event(index)` events times (forever when events is 0), then the
 * done line. */
#define MB_RUN(args, event)                                                                              \
	do {                                                                                             \
		long mb_index, mb_start, mb_faults, mb_cpu;                                              \
		mb_wait_for_go();                                                                        \
		mb_faults = mb_majflt();                                                                 \
		mb_cpu = mb_cpu_ns();                                                                    \
		mb_start = mb_now_ns();                                                                  \
		for (mb_index = 0; (args).events == 0 || mb_index < (args).events; mb_index++) {         \
			mb_pace(&(args), mb_start, mb_index);                                            \
			event(mb_index);                                                                 \
		}                                                                                        \
		mb_report("{\"phase\":\"done\",\"ns\":%ld,\"cpuNs\":%ld,\"events\":%ld,\"majflt\":%ld}", \
			  mb_now_ns() - mb_start, mb_cpu_ns() - mb_cpu, mb_index, mb_majflt() - mb_faults);     \
	} while (0)

#endif
