/*
 * memtop, slab tab (DTrace, illumos): kmem_cache_alloc() by process and by cache name
 * (stringof(args[0]->cache_name)), with the cache's buffer size as bytes. On illumos
 * kmem_alloc() is served from the kmem_alloc_<size> caches through kmem_cache_alloc, so the
 * kernel's "kmalloc" shows up here as those caches; allocations too large for a cache go to
 * vmem and are not counted.
 *
 * Usage: dtrace -s slab.d INTERVAL_MS PID
 *   $1  interval in milliseconds (one snapshot each)
 *   $2  only this process (0 = every process)
 *
 * Output: one snapshot per interval, fields separated by one TAB. D cannot escape strings, so
 * the name is the LAST field and may itself hold TABs; a name with a newline breaks its line,
 * and the parser skips the broken pieces.
 *   memtop<TAB>begin<TAB>slab
 *   row<TAB><pid><TAB><allocations><TAB><bytes><TAB><execname>
 *   cache<TAB><allocations><TAB><bytes><TAB><cache name>
 *   memtop<TAB>end<TAB><wall clock, ms since the epoch><TAB><interval length, ms>
 * Example:
 *   memtop	begin	slab
 *   row	812	310	79360	nginx
 *   cache	120	7680	kmem_alloc_64
 *   memtop	end	1718000000123	1000
 */

#pragma D option quiet
#pragma D option switchrate=10hz
#pragma D option aggrate=10hz

BEGIN
{
	interval_start = timestamp;
}

fbt::kmem_cache_alloc:entry
/$2 == 0 || pid == $2/
{
	@calls[pid, execname] = count();
	@bytes[pid, execname] = sum(args[0]->cache_bufsize);
	@cache_calls[stringof(args[0]->cache_name)] = count();
	@cache_bytes[stringof(args[0]->cache_name)] = sum(args[0]->cache_bufsize);
}

tick-$1ms
{
	printf("memtop\tbegin\tslab\n");
	printa("row\t%d\t%@u\t%@d\t%s\n", @calls, @bytes);
	printa("cache\t%@u\t%@d\t%s\n", @cache_calls, @cache_bytes);
	printf("memtop\tend\t%d\t%d\n", walltimestamp / 1000000, (timestamp - interval_start) / 1000000);
	trunc(@calls);
	trunc(@bytes);
	trunc(@cache_calls);
	trunc(@cache_bytes);
	interval_start = timestamp;
}
