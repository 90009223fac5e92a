/*
 * memtop, reclaim tab (DTrace, illumos): who pays for memory pressure, and how long. illumos
 * has no direct reclaim: a thread that needs pages when free memory is short waits in
 * page_create_wait() while the page-out daemon frees some. Per process, those waits (how many,
 * their total and longest time, in ns); the page-out daemon's row (execname "pageout") counts
 * its scanner's revolutions (vminfo:::rev) as wakes and the pages it frees (vminfo:::dfree).
 * Nothing is throttled as Linux throttles reclaim: that column is 0.
 *
 * Usage: dtrace -s reclaim.d INTERVAL_MS PID
 *   $1  interval in milliseconds (one snapshot each)
 *   $2  only this process (0 = every process)
 *
 * Output: one snapshot per interval, fields separated by one TAB; the process name LAST.
 *   memtop<TAB>begin<TAB>reclaim
 *   row<TAB><pid><TAB><ns waiting><TAB><waits><TAB><longest, ns><TAB><pages freed><TAB>0<TAB><execname>
 *   memtop<TAB>end<TAB><wall clock, ms since the epoch><TAB><interval length, ms>
 * Example:
 *   memtop	begin	reclaim
 *   row	977	250000000	1040	24000000	0	0	java
 *   row	2	0	3	0	120000	0	pageout
 *   memtop	end	1718000000123	1000
 */

#pragma D option quiet
#pragma D option switchrate=10hz
#pragma D option aggrate=10hz

BEGIN
{
	interval_start = timestamp;
}

fbt::page_create_wait:entry
/$2 == 0 || pid == $2/
{
	self->wait_start = timestamp;
}

fbt::page_create_wait:return
/self->wait_start/
{
	this->ns = timestamp - self->wait_start;
	@ns[pid, execname] = sum(this->ns);
	@waits[pid, execname] = count();
	@longest[pid, execname] = max(this->ns);
	@pages[pid, execname] = sum(0);
	self->wait_start = 0;
}

vminfo:::rev
/$2 == 0 || pid == $2/
{
	@ns[pid, execname] = sum(0);
	@waits[pid, execname] = count();
	@longest[pid, execname] = max(0);
	@pages[pid, execname] = sum(0);
}

vminfo:::dfree
/$2 == 0 || pid == $2/
{
	@pages[pid, execname] = sum(arg0);
}

tick-$1ms
{
	printf("memtop\tbegin\treclaim\n");
	printa("row\t%d\t%@d\t%@u\t%@d\t%@d\t0\t%s\n", @ns, @waits, @longest, @pages);
	printf("memtop\tend\t%d\t%d\n", walltimestamp / 1000000, (timestamp - interval_start) / 1000000);
	trunc(@ns);
	trunc(@waits);
	trunc(@longest);
	trunc(@pages);
	interval_start = timestamp;
}
