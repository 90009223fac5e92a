/*
 * memtop, slab drill-down (DTrace, illumos): kmem_cache_alloc() made while one process was
 * running, per distinct user stack of that process (the system call or fault that led to it),
 * with the cache's buffer size as bytes.
 *
 * Usage: dtrace -s stacks-slab.d INTERVAL_MS PID
 *   $1  interval in milliseconds (one snapshot each)
 *   $2  the process (required, not 0)
 *
 * Output: one snapshot per interval. The lines memtop prints itself are TAB-separated; "-"
 * where a tab has no bytes. The stack is printed by DTrace in its own layout: %k begins with
 * the newline that ends the "stack" line, then prints one frame per line (a plain %k does not
 * indent), as module`function+0xoffset (or module`function, module`0xaddress, 0xaddress),
 * innermost first, possibly followed by "[ annotation ]" lines from a ustack helper.
 *   memtop<TAB>begin<TAB>slab<TAB><pid>
 *   stack<TAB><events><TAB><bytes><TAB>
 *   libc.so.1`open+0x15
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

fbt::kmem_cache_alloc:entry
/pid == $2/
{
	@calls[ustack()] = count();
	@bytes[ustack()] = sum(args[0]->cache_bufsize);
}

tick-$1ms
{
	printf("memtop\tbegin\tslab\t%d\n", $2);
	printa("stack\t%@u\t%@d\t%k\nendstack\n", @calls, @bytes);
	printf("memtop\tend\t%d\t%d\n", walltimestamp / 1000000, (timestamp - interval_start) / 1000000);
	trunc(@calls);
	trunc(@bytes);
	interval_start = timestamp;
}
