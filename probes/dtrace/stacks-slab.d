/*
 * memtop, slab drill-down (DTrace, illumos): kmem_cache_alloc() made while one process was
 * running, per distinct user stack of that process (the system call or fault that led to it),
 * with the cache's buffer size as bytes.
 *
 * Usage: dtrace -s stacks-slab.d INTERVAL_MS LIMIT PID
 *   $1  interval in milliseconds (one snapshot each)
 *   $2  stacks printed per snapshot, most events first (0 = all)
 *   $3  the process (required, not 0)
 *
 * Output: one snapshot per interval. The lines memtop prints itself are TAB-separated; "-"
 * where a tab has no bytes. The stack is printed by DTrace in its own layout: %k begins with
 * the newline that ends the "stack" line, then prints one frame per line (a plain %k does not
 * indent), as module`function+0xoffset (or module`function, module`0xaddress, 0xaddress),
 * innermost first, possibly followed by "[ annotation ]" lines from a ustack helper.
 * printa() prints every key of @bytes and fills the calls of keys that trunc() removed from
 * @calls with 0: such stacks are not in the top LIMIT and the parser drops them.
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
/pid == $3/
{
	@calls[ustack()] = count();
	@bytes[ustack()] = sum(args[0]->cache_bufsize);
}

tick-$1ms
/$2 > 0/
{
	trunc(@calls, $2);
}

tick-$1ms
{
	printf("memtop\tbegin\tslab\t%d\n", $3);
	printa("stack\t%@u\t%@d\t%k\nendstack\n", @calls, @bytes);
	printf("memtop\tend\t%d\t%d\n", walltimestamp / 1000000, (timestamp - interval_start) / 1000000);
	trunc(@calls);
	trunc(@bytes);
	interval_start = timestamp;
}
