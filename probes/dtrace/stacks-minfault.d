/*
 * memtop, minfault drill-down (DTrace, illumos): the seed's line,
 *   dtrace -n 'vminfo:::as_fault /execname == "beam.smp"/ { @[ustack(4)] = count(); }'
 * for one process by pid and with whole stacks. as_fault counts every address-space fault,
 * major ones too (illumos has no probe for minor faults alone).
 *
 * Usage: dtrace -s stacks-minfault.d INTERVAL_MS PID
 *   $1  interval in milliseconds (one snapshot each)
 *   $2  the process
 *
 * Output: one snapshot per interval. The lines memtop prints itself are TAB-separated; stacks
 * are printed by DTrace in its own layout (%k: one frame per line, module`function+0xoffset,
 * innermost first), each closed by "endstack".
 *   memtop<TAB>begin<TAB>minfault<TAB><pid>
 *   stack<TAB><faults><TAB>-<TAB>
 *   libc.so.1`memset+0x42
 *   beam.smp`erts_alloc+0x1f0
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

vminfo:::as_fault
/pid == $2/
{
	@calls[ustack()] = sum(arg0);
}

tick-$1ms
{
	printf("memtop\tbegin\tminfault\t%d\n", $2);
	printa("stack\t%@u\t-\t%k\nendstack\n", @calls);
	printf("memtop\tend\t%d\t%d\n", walltimestamp / 1000000, (timestamp - interval_start) / 1000000);
	trunc(@calls);
	interval_start = timestamp;
}
