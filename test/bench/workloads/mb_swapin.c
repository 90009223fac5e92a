/* memtop bench workload for the anonpgin tab: one event is one read of an anonymous page that
 * was swapped out, so one swap-in.
 * Usage: mb_swapin <events> <events_per_sec> [size_mib]
 * Run it in a memory cgroup whose limit is well below size_mib (default 128) with swap on. It
 * fills size_mib of anonymous memory with distinct non-zero pages (most get swapped out), marks
 * it MADV_RANDOM (no swap readahead: one fault reads one page) and then reads one byte per
 * page, cycling through the area: with a working set larger than the limit, least recently
 * used pages are the ones evicted, so every read finds its page in swap.
 */
#include "bench.h"
#include <sys/mman.h>

static volatile unsigned char *area;
static size_t area_bytes, page_bytes, page_count;
static volatile unsigned sink;

static void one_swapin(long index)
{
	sink += area[((size_t)index % page_count) * page_bytes];
}

int main(int argc, char **argv)
{
	struct bench_args args = mb_args(argc, argv, "mb_swapin");
	size_t mebibytes = args.extra_count > 0 ? (size_t)mb_number(args.extra[0], "size_mib") : 128;
	size_t page;
	page_bytes = (size_t)sysconf(_SC_PAGESIZE);
	area_bytes = mebibytes << 20;
	page_count = area_bytes / page_bytes;
	area = mmap(NULL, area_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		mb_die("mmap");
	madvise((void *)area, area_bytes, MADV_NOHUGEPAGE);
	for (page = 0; page < page_count; page++)
		memset((void *)(area + page * page_bytes), (int)(page % 251) + 1, page_bytes);
	if (madvise((void *)area, area_bytes, MADV_RANDOM) != 0)
		mb_die("madvise");
	mb_report("{\"phase\":\"ready\",\"pid\":%d,\"pages\":%ld}", getpid(), (long)page_count);
	MB_RUN(args, one_swapin);
	return 0;
}
