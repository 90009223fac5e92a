/*
 * memtop, brk tab (DTrace, illumos): brk() calls and net heap growth per process. The growth
 * of one call is the break after it minus the break before it (p_brkbase + p_brksize of the
 * calling process), so shrinks count negative and a failed call adds 0.
 *
 * Usage: dtrace -s brk.d INTERVAL_MS PID
 *   $1  interval in milliseconds (one snapshot each)
 *   $2  only this process (0 = every process)
 *
 * Output: one snapshot per interval, fields separated by one TAB. D cannot escape strings, so
 * the process name is the LAST field and may itself hold TABs; a name with a newline breaks
 * its line, and the parser skips the broken pieces.
 *   memtop<TAB>begin<TAB>brk
 *   row<TAB><pid><TAB><calls><TAB><net growth in bytes, may be negative><TAB><execname>
 *   memtop<TAB>end<TAB><wall clock, ms since the epoch><TAB><interval length, ms>
 * Example:
 *   memtop	begin	brk
 *   row	4242	3	135168	bash
 *   memtop	end	1718000000123	1000
 */

#pragma D option quiet
#pragma D option switchrate=10hz
#pragma D option aggrate=10hz

BEGIN
{
	interval_start = timestamp;
}

syscall::brk:entry
/$2 == 0 || pid == $2/
{
	self->break_before = (int64_t)curthread->t_procp->p_brkbase +
	    (int64_t)curthread->t_procp->p_brksize;
	self->in_brk = 1;
}

syscall::brk:return
/self->in_brk/
{
	this->break_after = (int64_t)curthread->t_procp->p_brkbase +
	    (int64_t)curthread->t_procp->p_brksize;
	@calls[pid, execname] = count();
	@bytes[pid, execname] = sum(this->break_after - self->break_before);
	self->in_brk = 0;
	self->break_before = 0;
}

tick-$1ms
{
	printf("memtop\tbegin\tbrk\n");
	printa("row\t%d\t%@u\t%@d\t%s\n", @calls, @bytes);
	printf("memtop\tend\t%d\t%d\n", walltimestamp / 1000000, (timestamp - interval_start) / 1000000);
	trunc(@calls);
	trunc(@bytes);
	interval_start = timestamp;
}
