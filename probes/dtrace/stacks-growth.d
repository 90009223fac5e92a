/*
 * memtop, growth drill-down (DTrace, illumos): one process's user stacks at its zero-fill faults
 * (vminfo:::zfod: a fresh anonymous page made resident), with the bytes they made resident.
 * Growth in file mappings does not show here (the table's FILE+ column has it).
 *
 * Usage: dtrace -s stacks-growth.d INTERVAL_MS PID
 *   $1  interval in milliseconds (one snapshot each)
 *   $2  the process
 *
 * Output: one snapshot per interval. The lines memtop prints itself are TAB-separated; stacks
 * are printed by DTrace in its own layout (%k: one frame per line, innermost first), each closed
 * by "endstack".
 *   memtop<TAB>begin<TAB>growth<TAB><pid>
 *   stack<TAB><faults><TAB><bytes><TAB>
 *   libc.so.1`memset+0x42
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

vminfo:::zfod
/pid == $2/
{
	@calls[ustack()] = sum(arg0);
	@bytes[ustack()] = sum(arg0 * `_pagesize);
}

tick-$1ms
{
	printf("memtop\tbegin\tgrowth\t%d\n", $2);
	printa("stack\t%@u\t%@u\t%k\nendstack\n", @calls, @bytes);
	printf("memtop\tend\t%d\t%d\n", walltimestamp / 1000000, (timestamp - interval_start) / 1000000);
	trunc(@calls);
	trunc(@bytes);
	interval_start = timestamp;
}
