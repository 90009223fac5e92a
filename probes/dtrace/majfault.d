/*
 * memtop, majfault tab (DTrace): major page faults per process, from vminfo:::maj_fault
 * (arg0 is the amount the kernel adds to the statistic).
 *
 * Usage: dtrace -s majfault.d INTERVAL_MS PID
 *   $1  interval in milliseconds (one snapshot each)
 *   $2  only this process (0 = every process)
 *
 * Output: one snapshot per interval, fields separated by one TAB; "-" where a tab has no
 * bytes. D cannot escape strings, so the process name is the LAST field and may itself hold
 * TABs; a name with a newline breaks its line, and the parser skips the broken pieces.
 *   memtop<TAB>begin<TAB>majfault
 *   row<TAB><pid><TAB><major faults><TAB>-<TAB><execname>
 *   memtop<TAB>end<TAB><wall clock, ms since the epoch><TAB><interval length, ms>
 * Example:
 *   memtop	begin	majfault
 *   row	977	52	-	java
 *   memtop	end	1718000000123	1000
 */

#pragma D option quiet
#pragma D option switchrate=10hz
#pragma D option aggrate=10hz

BEGIN
{
	interval_start = timestamp;
}

vminfo:::maj_fault
/$2 == 0 || pid == $2/
{
	@faults[pid, execname] = sum(arg0);
}

tick-$1ms
{
	printf("memtop\tbegin\tmajfault\n");
	printa("row\t%d\t%@u\t-\t%s\n", @faults);
	printf("memtop\tend\t%d\t%d\n", walltimestamp / 1000000, (timestamp - interval_start) / 1000000);
	trunc(@faults);
	interval_start = timestamp;
}
