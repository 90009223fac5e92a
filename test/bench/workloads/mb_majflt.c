/* memtop bench workload for the majfault tab: one event is one read of a page of a file mapping
 * that is not in the page cache, so one major fault.
 * Usage: mb_majflt <events> <events_per_sec> [directory] [file_mib]
 * Writes a file (default: big enough for `events` pages, or 64 MiB when running until killed)
 * in directory (default /var/tmp, a disk filesystem), unlinks it, syncs it, drops it from the
 * page cache (POSIX_FADV_DONTNEED), maps it with MADV_RANDOM (no readahead: one fault reads one
 * page) and reports how many pages were still cached. After the last page the mapping is
 * dropped and the cache emptied again (only when running until killed).
 */
#include "bench.h"
#include <fcntl.h>
#include <sys/mman.h>

static int file_fd;
static size_t file_bytes, page_bytes, page_count;
static volatile unsigned char *mapping;
static volatile unsigned sink;

static long map_cold(void)
{
	unsigned char *residency;
	long resident = 0;
	size_t page;
	if (mapping != NULL && munmap((void *)mapping, file_bytes) != 0)
		mb_die("munmap");
	if (fdatasync(file_fd) != 0)
		mb_die("fdatasync");
	errno = posix_fadvise(file_fd, 0, 0, POSIX_FADV_DONTNEED);
	if (errno != 0)
		mb_die("posix_fadvise");
	mapping = mmap(NULL, file_bytes, PROT_READ, MAP_SHARED, file_fd, 0);
	if (mapping == MAP_FAILED)
		mb_die("mmap");
	if (madvise((void *)mapping, file_bytes, MADV_RANDOM) != 0)
		mb_die("madvise");
	residency = mmap(NULL, page_count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (residency == MAP_FAILED)
		mb_die("mmap");
	if (mincore((void *)mapping, file_bytes, residency) != 0)
		mb_die("mincore");
	for (page = 0; page < page_count; page++)
		resident += residency[page] & 1;
	munmap(residency, page_count);
	return resident;
}

static void write_file(const char *directory, size_t bytes)
{
	char path[4096];
	static char block[1 << 20];
	size_t written;
	snprintf(path, sizeof path, "%s/mb_majflt.XXXXXX", directory);
	file_fd = mkstemp(path);
	if (file_fd < 0)
		mb_die(path);
	if (unlink(path) != 0)
		mb_die("unlink");
	memset(block, 0xa5, sizeof block);
	page_bytes = (size_t)sysconf(_SC_PAGESIZE);
	file_bytes = (bytes + sizeof block - 1) / sizeof block * sizeof block;
	for (written = 0; written < file_bytes; written += sizeof block)
		if (write(file_fd, block, sizeof block) != (ssize_t)sizeof block)
			mb_die("write");
	page_count = file_bytes / page_bytes;
}

static void one_fault(long index)
{
	size_t page = (size_t)index % page_count;
	if (page == 0 && index > 0)
		map_cold();
	sink += mapping[page * page_bytes];
}

int main(int argc, char **argv)
{
	struct bench_args args = mb_args(argc, argv, "mb_majflt");
	const char *directory = args.extra_count > 0 ? args.extra[0] : "/var/tmp";
	size_t bytes;
	long resident;
	page_bytes = (size_t)sysconf(_SC_PAGESIZE);
	if (args.extra_count > 1)
		bytes = (size_t)mb_number(args.extra[1], "file_mib") * 1024 * 1024;
	else
		bytes = args.events > 0 ? (size_t)args.events * page_bytes : (size_t)64 << 20;
	write_file(directory, bytes);
	resident = map_cold();
	mb_report("{\"phase\":\"ready\",\"pid\":%d,\"pages\":%ld,\"residentAfterDrop\":%ld}", getpid(), (long)page_count, resident);
	MB_RUN(args, one_fault);
	return 0;
}
