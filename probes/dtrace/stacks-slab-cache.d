/*
 * memtop, slab drill-down by cache (DTrace, illumos): the kernel stacks that allocate from one
 * kmem cache, and the processes behind them. It is the seed's one-liner with its quoting fixed
 * (its arg[0] is args[0], and the whole program is one shell word):
 *   dtrace -n 'fbt::kmem_cache_alloc:entry { @[stringof(args[0]->cache_name), stack()] = count(); }'
 * filtered in the kernel to the one cache on screen.
 *
 * Usage: dtrace -s stacks-slab-cache.d INTERVAL_MS CACHE SIZE
 *   $1   interval in milliseconds (one snapshot each)
 *   $$2  the cache's name, as a string (memtop passes only [A-Za-z0-9_.:-])
 *   $3   its kmalloc size class (illumos names kmalloc's caches kmem_alloc_<size>: unused, 0)
 *
 * Output: one snapshot per interval. The lines memtop prints itself are TAB-separated, the
 * process name last (D cannot escape it). Stacks are printed by DTrace in its own layout (%k:
 * one frame per line, module`function+0xoffset, innermost first), each closed by "endstack".
 *   memtop<TAB>begin<TAB>slab<TAB><cache name>
 *   stack<TAB><allocations><TAB><bytes><TAB>
 *   genunix`kmem_cache_alloc+0x1e
 *   genunix`falloc+0x3c
 *   (empty line)
 *   endstack
 *   proc<TAB><pid><TAB><allocations><TAB><bytes><TAB><execname>
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
/stringof(args[0]->cache_name) == $$2/
{
	@calls[stack()] = count();
	@bytes[stack()] = sum(args[0]->cache_bufsize);
	@process_calls[pid, execname] = count();
	@process_bytes[pid, execname] = sum(args[0]->cache_bufsize);
}

tick-$1ms
{
	printf("memtop\tbegin\tslab\t%s\n", $$2);
	printa("stack\t%@u\t%@d\t%k\nendstack\n", @calls, @bytes);
	trunc(@process_calls, 10);
	printa("proc\t%d\t%@u\t%@d\t%s\n", @process_calls, @process_bytes);
	printf("memtop\tend\t%d\t%d\n", walltimestamp / 1000000, (timestamp - interval_start) / 1000000);
	trunc(@calls);
	trunc(@bytes);
	trunc(@process_calls);
	trunc(@process_bytes);
	interval_start = timestamp;
}
