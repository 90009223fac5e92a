/* memtop bench workload for the brk tab: one brk(2) per event, alternately growing the heap by
 * 64 KiB and giving it back, so the break oscillates and never runs out. The system call is made
 * directly: nothing here calls malloc, so nothing else moves the break. */
#include "bench.h"
#include <stdint.h>
#include <sys/syscall.h>

#define STEP (64 * 1024)
static uintptr_t base;

static void one_brk(long index)
{
	uintptr_t wanted = base + ((index & 1) == 0 ? STEP : 0);
	if ((uintptr_t)syscall(SYS_brk, wanted) != wanted)
		mb_die("brk");
}

int main(int argc, char **argv)
{
	struct bench_args args = mb_args(argc, argv, "mb_brk");
	base = (uintptr_t)syscall(SYS_brk, 0);
	mb_report("{\"phase\":\"ready\",\"pid\":%d}", getpid());
	MB_RUN(args, one_brk);
	return 0;
}
