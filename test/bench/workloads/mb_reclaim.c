/* memtop bench workload for the reclaim tab: one event is a write to one page of an anonymous
 * area larger than its memory cgroup's limit, so that pages keep being charged to a cgroup at
 * its limit and the kernel reclaims (swaps out) pages of the cgroup in the fault: reclaim stalls.
 * Usage: mb_reclaim <events> <events_per_sec> [area_mib]
 * Run it in a memory cgroup whose limit is well below area_mib (default 128) with swap on. It
 * writes one byte per page, cycling through the area (base pages only: MADV_NOHUGEPAGE), so
 * every write finds its page swapped out or never touched.
 */
#include "bench.h"
#include <sys/mman.h>

static volatile unsigned char *area;
static size_t area_bytes, page_bytes, page_count;

static void one_write(long index)
{
	area[((size_t)index % page_count) * page_bytes] = (unsigned char)(index | 1);
}

int main(int argc, char **argv)
{
	struct bench_args args = mb_args(argc, argv, "mb_reclaim");
	size_t mebibytes = args.extra_count > 0 ? (size_t)mb_number(args.extra[0], "area_mib") : 128;
	page_bytes = (size_t)sysconf(_SC_PAGESIZE);
	area_bytes = (mebibytes ? mebibytes : 1) << 20;
	page_count = area_bytes / page_bytes;
	area = mmap(NULL, area_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		mb_die("mmap");
	madvise((void *)area, area_bytes, MADV_NOHUGEPAGE);
	mb_report("{\"phase\":\"ready\",\"pid\":%d,\"pages\":%ld}", getpid(), (long)page_count);
	MB_RUN(args, one_write);
	return 0;
}
