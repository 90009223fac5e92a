/*
 * memtop, malloc tab (DTrace): malloc() calls and requested bytes of ONE process.
 * The pid provider needs a target process, so this tab covers only the process given with
 * --pid (dtrace -p PID); memtop says so in the probe label. The module is left empty so that
 * malloc is found in whichever library provides it (libc, libumem, libsystem_malloc, ...).
 *
 * Usage: dtrace -p PID -s malloc.d INTERVAL_MS PID
 *   $1  interval in milliseconds (one snapshot each)
 *   $2  the process, same as -p (kept as an argument so that every script takes the same two)
 *
 * Output: one snapshot per interval, fields separated by one TAB. D cannot escape strings, so
 * the process name is the LAST field and may itself hold TABs; a name with a newline breaks
 * its line, and the parser skips the broken pieces.
 *   memtop<TAB>begin<TAB>malloc
 *   row<TAB><pid><TAB><calls><TAB><requested bytes><TAB><execname>
 *   memtop<TAB>end<TAB><wall clock, ms since the epoch><TAB><interval length, ms>
 * Example:
 *   memtop	begin	malloc
 *   row	4242	1834	301120	postgres
 *   memtop	end	1718000000123	1000
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
	@calls[pid, execname] = count();
	@bytes[pid, execname] = sum(arg0);
}

tick-$1ms
{
	printf("memtop\tbegin\tmalloc\n");
	printa("row\t%d\t%@u\t%@d\t%s\n", @calls, @bytes);
	printf("memtop\tend\t%d\t%d\n", walltimestamp / 1000000, (timestamp - interval_start) / 1000000);
	trunc(@calls);
	trunc(@bytes);
	interval_start = timestamp;
}
