/* memtop bench workload for the minfault tab: one event is the first write to a page of fresh
 * anonymous memory, so one minor fault.
 * Usage: mb_minflt <events> <events_per_sec> [area_mib]
 * It maps area_mib (default 64) of anonymous memory with base pages only (MADV_NOHUGEPAGE) and
 * writes one byte per page; after the last page the area is unmapped and mapped anew (the
 * mapping calls fault nothing; their cost is part of every run alike).
 */
#include "bench.h"
#include <sys/mman.h>

static volatile unsigned char *area;
static size_t area_bytes, page_bytes, page_count;

static void map_fresh(void)
{
	if (area != NULL && munmap((void *)area, area_bytes) != 0)
		mb_die("munmap");
	area = mmap(NULL, area_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		mb_die("mmap");
	madvise((void *)area, area_bytes, MADV_NOHUGEPAGE);
}

static void one_minflt(long index)
{
	size_t page = (size_t)index % page_count;
	if (page == 0 && index > 0)
		map_fresh();
	area[page * page_bytes] = (unsigned char)(index | 1);
}

int main(int argc, char **argv)
{
	struct bench_args args = mb_args(argc, argv, "mb_minflt");
	size_t mebibytes = args.extra_count > 0 ? (size_t)mb_number(args.extra[0], "area_mib") : 64;
	page_bytes = (size_t)sysconf(_SC_PAGESIZE);
	area_bytes = (mebibytes ? mebibytes : 1) << 20;
	page_count = area_bytes / page_bytes;
	map_fresh();
	mb_report("{\"phase\":\"ready\",\"pid\":%d,\"pages\":%ld}", getpid(), (long)page_count);
	MB_RUN(args, one_minflt);
	return 0;
}
