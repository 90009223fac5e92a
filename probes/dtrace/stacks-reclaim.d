/*
 * memtop, reclaim drill-down (DTrace, illumos): for one process, its waits for free memory in
 * page_create_wait() per distinct user stack (taken as the wait ends: the thread is in the same
 * fault or system call as when it began), with their time in ns, and a histogram of the waits'
 * lengths in microseconds.
 *
 * Usage: dtrace -s stacks-reclaim.d INTERVAL_MS PID
 *   $1  interval in milliseconds (one snapshot each)
 *   $2  the process
 *
 * Output: one snapshot per interval. The lines memtop prints itself are TAB-separated; stacks
 * and the histogram are printed by DTrace in its own layout (see stacks-malloc.d).
 *   memtop<TAB>begin<TAB>reclaim<TAB><pid>
 *   stack<TAB><waits><TAB><ns waiting><TAB>
 *   genunix`page_create_va+0x1e
 *   app`fill+0x3c
 *   (empty line)
 *   endstack
 *   hist
 *   (quantize() of the waits in microseconds)
 *   endhist
 *   memtop<TAB>end<TAB><wall clock, ms since the epoch><TAB><interval length, ms>
 */

#pragma D option quiet
#pragma D option switchrate=10hz
#pragma D option aggrate=10hz

BEGIN
{
	interval_start = timestamp;
}

fbt::page_create_wait:entry
/pid == $2/
{
	self->wait_start = timestamp;
}

fbt::page_create_wait:return
/self->wait_start/
{
	this->ns = timestamp - self->wait_start;
	@calls[ustack()] = count();
	@ns[ustack()] = sum(this->ns);
	@lengths = quantize(this->ns / 1000);
	self->wait_start = 0;
}

tick-$1ms
{
	printf("memtop\tbegin\treclaim\t%d\n", $2);
	printa("stack\t%@u\t%@d\t%k\nendstack\n", @calls, @ns);
	printf("hist\n");
	printa(@lengths);
	printf("endhist\n");
	printf("memtop\tend\t%d\t%d\n", walltimestamp / 1000000, (timestamp - interval_start) / 1000000);
	trunc(@calls);
	trunc(@ns);
	trunc(@lengths);
	interval_start = timestamp;
}
