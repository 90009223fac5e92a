/*
 * memtop, minfault tab (DTrace, illumos): minor page faults per process, with major faults
 * beside them. vminfo:::as_fault fires for every address-space fault and vminfo:::maj_fault for
 * those that wait for a disk; minor faults are the first less the second, summed as one
 * aggregation (sum() takes negative values).
 *
 * Usage: dtrace -s minfault.d INTERVAL_MS PID
 *   $1  interval in milliseconds (one snapshot each)
 *   $2  only this process (0 = every process)
 *
 * Output: one snapshot per interval, fields separated by one TAB. D cannot escape strings, so
 * the process name is the LAST field. printa() prints every key of both aggregations; a row
 * with no minor fault (0) carries nothing for this tab and memtop drops it.
 *   memtop<TAB>begin<TAB>minfault
 *   row<TAB><pid><TAB><minor faults><TAB><major faults><TAB><execname>
 *   memtop<TAB>end<TAB><wall clock, ms since the epoch><TAB><interval length, ms>
 * Example:
 *   memtop	begin	minfault
 *   row	977	5210	3	java
 *   memtop	end	1718000000123	1000
 */

#pragma D option quiet
#pragma D option switchrate=10hz
#pragma D option aggrate=10hz

BEGIN
{
	interval_start = timestamp;
}

vminfo:::as_fault
/$2 == 0 || pid == $2/
{
	@minor[pid, execname] = sum(arg0);
}

vminfo:::maj_fault
/$2 == 0 || pid == $2/
{
	@minor[pid, execname] = sum(-arg0);
	@major[pid, execname] = sum(arg0);
}

tick-$1ms
{
	printf("memtop\tbegin\tminfault\n");
	printa("row\t%d\t%@d\t%@d\t%s\n", @minor, @major);
	printf("memtop\tend\t%d\t%d\n", walltimestamp / 1000000, (timestamp - interval_start) / 1000000);
	trunc(@minor);
	trunc(@major);
	interval_start = timestamp;
}
