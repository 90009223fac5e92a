/*
 * memtop, malloc drill-down (DTrace): for one process, malloc() calls and requested bytes per
 * distinct user stack, the request sizes as quantize(arg0) (power-of-two buckets), and calls
 * per allocator entry point (malloc, calloc, realloc, free, posix_memalign, aligned_alloc).
 *
 * Usage: dtrace -Z -p PID -s stacks-malloc.d INTERVAL_MS PID
 *   -Z  lets the script start where a library lacks an entry point (aligned_alloc, say)
 *   $1  interval in milliseconds (one snapshot each)
 *   $2  the process, same as -p
 *
 * Output: one snapshot per interval. The lines memtop prints itself are TAB-separated; the
 * stack and the histogram are printed by DTrace in its own layout: %k begins with the newline
 * that ends the "stack" line, then prints one frame per line (a plain %k does not indent), as
 * module`function+0xoffset (or module`function, module`0xaddress, 0xaddress), innermost first,
 * possibly followed by "[ annotation ]" lines from a ustack helper; quantize prints a header
 * and one line per bucket: the bucket's lowest value right-aligned, "|", a bar of @, and the
 * count padded with trailing spaces, with one empty bucket either side of the data.
 *   memtop<TAB>begin<TAB>malloc<TAB><pid>
 *   stack<TAB><calls><TAB><requested bytes><TAB>
 *   libc.so.1`malloc
 *   workload`wl_leaf+0x1c
 *   (empty line)
 *   endstack
 *   hist
 *   (empty line)
 *              value  ------------- Distribution ------------- count
 *                 32 |                                         0
 *                 64 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@ 12
 *                128 |                                         0
 *   (empty line)
 *   endhist
 *   entry<TAB><calls><TAB><entry point>
 *   memtop<TAB>end<TAB><wall clock, ms since the epoch><TAB><interval length, ms>
 */

#pragma D option quiet
#pragma D option switchrate=10hz
#pragma D option aggrate=10hz

BEGIN
{
	interval_start = timestamp;
}

pid$target::malloc:entry
{
	@calls[ustack()] = count();
	@bytes[ustack()] = sum(arg0);
	@sizes = quantize(arg0);
	@entries["malloc"] = count();
}

pid$target::calloc:entry,
pid$target::realloc:entry,
pid$target::free:entry,
pid$target::posix_memalign:entry,
pid$target::aligned_alloc:entry
{
	@entries[probefunc] = count();
}

tick-$1ms
{
	printf("memtop\tbegin\tmalloc\t%d\n", $2);
	printa("stack\t%@u\t%@d\t%k\nendstack\n", @calls, @bytes);
	printf("hist\n");
	printa(@sizes);
	printf("endhist\n");
	printa("entry\t%@u\t%s\n", @entries);
	printf("memtop\tend\t%d\t%d\n", walltimestamp / 1000000, (timestamp - interval_start) / 1000000);
	trunc(@calls);
	trunc(@bytes);
	trunc(@sizes);
	trunc(@entries);
	interval_start = timestamp;
}
