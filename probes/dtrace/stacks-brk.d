/*
 * memtop, brk drill-down (DTrace, illumos): brk() calls and net heap growth per distinct user
 * stack of one process (growth = break after the call minus before it, p_brkbase +
 * p_brksize; shrinks count negative).
 *
 * Usage: dtrace -s stacks-brk.d INTERVAL_MS PID
 *   $1  interval in milliseconds (one snapshot each)
 *   $2  the process (required, not 0)
 *
 * Output: one snapshot per interval. The lines memtop prints itself are TAB-separated; "-"
 * where a tab has no bytes. The stack is printed by DTrace in its own layout: %k begins with
 * the newline that ends the "stack" line, then prints one frame per line (a plain %k does not
 * indent), as module`function+0xoffset (or module`function, module`0xaddress, 0xaddress),
 * innermost first, possibly followed by "[ annotation ]" lines from a ustack helper.
 *   memtop<TAB>begin<TAB>brk<TAB><pid>
 *   stack<TAB><events><TAB><net growth in bytes, may be negative><TAB>
 *   libc.so.1`_brk_unlocked+0xa
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

syscall::brk:entry
/pid == $2/
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
	@calls[ustack()] = count();
	@bytes[ustack()] = sum(this->break_after - self->break_before);
	self->in_brk = 0;
	self->break_before = 0;
}

tick-$1ms
{
	printf("memtop\tbegin\tbrk\t%d\n", $2);
	printa("stack\t%@u\t%@d\t%k\nendstack\n", @calls, @bytes);
	printf("memtop\tend\t%d\t%d\n", walltimestamp / 1000000, (timestamp - interval_start) / 1000000);
	trunc(@calls);
	trunc(@bytes);
	interval_start = timestamp;
}
