/* memtop bench helper: start many workloads at once. `mb_spawn <events> <events_per_sec> <file>...`
 * runs each file as `<file> <events> <events_per_sec>` (bench.h's protocol), all sharing its stdin
 * and stdout (so their ready lines, one write(2) each, name their pids), then waits for them.
 * Forking from this small process takes microseconds a child, where the bench's Node takes
 * milliseconds, and the child calls nothing between fork and exec: no malloc of the launcher's is
 * ever counted under a workload's pid. Each workload dies with it (bench.h's PR_SET_PDEATHSIG). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int index;
	if (argc < 4) {
		dprintf(2, "usage: mb_spawn <events> <events_per_sec> <file>...\n");
		return 2;
	}
	/* Die with the bench even when it is killed outright. */
	prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0);
	for (index = 3; index < argc; index++) {
		char *args[] = {argv[index], argv[1], argv[2], NULL};
		pid_t pid = fork();
		if (pid < 0) {
			dprintf(2, "fork: %s\n", strerror(errno));
			return 1;
		}
		if (pid == 0) {
			execv(argv[index], args);
			_exit(127);
		}
	}
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return 0;
}
