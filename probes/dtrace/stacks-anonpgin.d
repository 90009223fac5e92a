/*
 * memtop, anonpgin drill-down (DTrace): anonymous pages of one process paged in (swapped in), per
 * distinct user stack (the code that touched the page), from vminfo:::anonpgin.
 *
 * Usage: dtrace -s stacks-anonpgin.d INTERVAL_MS PID
 *   $1  interval in milliseconds (one snapshot each)
 *   $2  the process (required, not 0)
 *
 * Output: one snapshot per interval. The lines memtop prints itself are TAB-separated; "-"
 * where a tab has no bytes. The stack is printed by DTrace in its own layout: %k begins with
 * the newline that ends the "stack" line, then prints one frame per line (a plain %k does not
 * indent), as module`function+0xoffset (or module`function, module`0xaddress, 0xaddress),
 * innermost first, possibly followed by "[ annotation ]" lines from a ustack helper.
 *   memtop<TAB>begin<TAB>anonpgin<TAB><pid>
 *   stack<TAB><events><TAB>-<TAB>
 *   libc.so.1`memset+0x20
 *   workload`main+0x2c
 *   (empty line)
 *   endstack
 *   memtop<TAB>end<TAB><wall clock, ms since the epoch><TAB><interval length, ms>
 */

#pragma D option quiet
#pragma D option switchrate=10hz
#pragma D option aggrate=10hz

BEGIN
{
	interval_start = timestamp;
}

vminfo:::anonpgin
/pid == $2/
{
	@calls[ustack()] = sum(arg0);
}

tick-$1ms
{
	printf("memtop\tbegin\tanonpgin\t%d\n", $2);
	printa("stack\t%@u\t-\t%k\nendstack\n", @calls);
	printf("memtop\tend\t%d\t%d\n", walltimestamp / 1000000, (timestamp - interval_start) / 1000000);
	trunc(@calls);
	interval_start = timestamp;
}
