/* memtop bench workload for the malloc tab: one malloc() per event, of a size cycling through
 * small, medium and page-sized requests, each freed 64 events later. */
#include "bench.h"

#define RING_SLOTS 64
static const size_t sizes[] = {16, 24, 100, 256, 1000, 4096, 8000, 40000};
static void *volatile ring[RING_SLOTS];

static void one_malloc(long index)
{
	long slot = index % RING_SLOTS;
	char *block;
	free(ring[slot]);
	block = malloc(sizes[index % (long)(sizeof sizes / sizeof sizes[0])]);
	if (block == NULL)
		mb_die("malloc");
	block[0] = 1;
	ring[slot] = block;
}

int main(int argc, char **argv)
{
	struct bench_args args = mb_args(argc, argv, "mb_malloc");
	mb_report("{\"phase\":\"ready\",\"pid\":%d}", getpid());
	MB_RUN(args, one_malloc);
	return 0;
}
