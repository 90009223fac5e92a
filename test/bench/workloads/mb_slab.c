/* memtop bench workload for the slab tab: one event is one round of pipe2+close, openat+close
 * and socket(AF_UNIX)+close, each allocating several kernel slab objects (files, pipe buffers,
 * dentries, inodes, socks) in this process's context. */
#include "bench.h"
#include <fcntl.h>
#include <sys/socket.h>

static const char *file_to_open = "/etc/passwd";

static void one_round(long index)
{
	int fds[2];
	int fd;
	(void)index;
	if (pipe2(fds, O_CLOEXEC) != 0)
		mb_die("pipe2");
	close(fds[0]);
	close(fds[1]);
	fd = open(file_to_open, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		mb_die(file_to_open);
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		mb_die("socket");
	close(fd);
}

int main(int argc, char **argv)
{
	struct bench_args args = mb_args(argc, argv, "mb_slab");
	mb_report("{\"phase\":\"ready\",\"pid\":%d}", getpid());
	MB_RUN(args, one_round);
	return 0;
}
