/*
 * memtop, malloc drill-down of the live view (DTrace): one process's outstanding allocations made
 * since the script started, in total and per calling function, by age class. The allocator
 * probes are malloc-live.d's. D keeps a stack only as an aggregation's key, never in a variable,
 * so a free cannot find its allocation's stack: each allocation keeps its caller (the return
 * address at the allocator's return, where the stack pointer points at it) instead, and the
 * drill-down is by caller, one frame deep.
 *
 * Usage: dtrace -Z -p PID -s stacks-malloc-live.d INTERVAL_MS PID SAMPLE
 *   $1  interval in milliseconds (one snapshot each)
 *   $2  the process, same as -p
 *   $3  bytes per caller sample: 0 keeps every allocation's caller; N keeps one for an
 *       allocation of N bytes or more, and for a smaller one with chance size / N, so that it
 *       stands for max(size, N) bytes and max(1, N / size) allocations (estimates), while the
 *       totals stay exact
 *
 * Output: one snapshot per interval, fields separated by one TAB, the symbol last.
 *   memtop<TAB>begin<TAB>malloc<TAB><pid><TAB>live
 *   live<TAB><wall clock the script started, ms since the epoch><TAB><allocations not tracked>
 *   class<TAB><k><TAB><wall clock it began, ms since the epoch>
 *   total<TAB><class><TAB><allocations outstanding><TAB><their bytes>                 (exact)
 *   stack<TAB><class><TAB><allocations outstanding x 1024><TAB><their bytes><TAB><caller, as %A prints it>
 *   memtop<TAB>end<TAB><wall clock, ms since the epoch><TAB><interval length, ms>
 */

#pragma D option quiet
#pragma D option switchrate=10hz
#pragma D option aggrate=10hz
#pragma D option dynvarsize=32m

BEGIN
{
	interval_start = timestamp;
	since = walltimestamp / 1000000;
	epoch = 0;
	epoch_next = timestamp + 1000000000;
	@start[0] = min(walltimestamp / 1000000);
	@untracked = sum(0);
}

tick-1s
/timestamp >= epoch_next - 50000000 && epoch < 191/
{
	epoch++;
	@start[epoch] = min(walltimestamp / 1000000);
	epoch_next = timestamp + (1000000000 << (epoch / 16));
}

pid$target::malloc:entry, pid$target::valloc:entry, pid$target::pvalloc:entry { self->pending = arg0 + 1; }
pid$target::calloc:entry { self->pending = arg0 * arg1 + 1; }
pid$target::memalign:entry, pid$target::aligned_alloc:entry { self->pending = arg1 + 1; }
pid$target::posix_memalign:entry { self->pending = arg2 + 1; self->memptr = arg0; }

pid$target::free:entry, pid$target::realloc:entry, pid$target::reallocarray:entry
{
	self->released = 0;
}

/* live[] holds size + 1, class[] class + 1, caller[] the caller of a sampled allocation. */
pid$target::free:entry, pid$target::realloc:entry, pid$target::reallocarray:entry
/arg0 != 0 && live[arg0] != 0/
{
	this->size = live[arg0] - 1;
	this->class = class[arg0] - 1;
	@total_count[this->class] = sum(-1);
	@total_bytes[this->class] = sum(-this->size);
	self->released = 1;
}

pid$target::free:entry, pid$target::realloc:entry, pid$target::reallocarray:entry
/arg0 != 0 && live[arg0] != 0 && caller[arg0] != 0/
{
	@stack_count[this->class, caller[arg0]] = sum(-($3 == 0 || this->size >= $3 ? 1024 : ($3 << 10) / (this->size > 0 ? this->size : 1)));
	@stack_bytes[this->class, caller[arg0]] = sum(-($3 == 0 || this->size >= $3 ? this->size : $3));
	caller[arg0] = 0;
}

pid$target::free:entry, pid$target::realloc:entry, pid$target::reallocarray:entry
/arg0 != 0 && live[arg0] != 0/
{
	live[arg0] = 0;
	class[arg0] = 0;
}

pid$target::realloc:entry { self->pending = (arg1 + 1) | (self->released << 62); }
pid$target::reallocarray:entry { self->pending = (arg1 * arg2 + 1) | (self->released << 62); }

pid$target::malloc:return, pid$target::calloc:return, pid$target::realloc:return, pid$target::reallocarray:return,
pid$target::memalign:return, pid$target::aligned_alloc:return, pid$target::valloc:return, pid$target::pvalloc:return,
pid$target::posix_memalign:return
{
	this->take = self->pending != 0;
	this->size = (self->pending & 0x3fffffffffffffff) - 1;
	this->released = self->pending >> 62;
	this->address = probefunc == "posix_memalign" ? (arg1 == 0 && self->memptr != 0 ? *(uint64_t *)copyin(self->memptr, sizeof (uint64_t)) : 0) : arg1;
	this->sampled = $3 == 0 || this->size >= $3 || rand() % $3 < (this->size > 0 ? this->size : 1);
	self->pending = 0;
	self->memptr = 0;
}

pid$target::malloc:return, pid$target::calloc:return, pid$target::realloc:return, pid$target::reallocarray:return,
pid$target::memalign:return, pid$target::aligned_alloc:return, pid$target::valloc:return, pid$target::pvalloc:return,
pid$target::posix_memalign:return
/this->take && this->address != 0/
{
	live[this->address] = this->size + 1;
	class[this->address] = epoch + 1;
	@total_count[epoch] = sum(1);
	@total_bytes[epoch] = sum(this->size);
}

pid$target::malloc:return, pid$target::calloc:return, pid$target::realloc:return, pid$target::reallocarray:return,
pid$target::memalign:return, pid$target::aligned_alloc:return, pid$target::valloc:return, pid$target::pvalloc:return,
pid$target::posix_memalign:return
/this->take && this->address != 0 && this->sampled/
{
	caller[this->address] = ucaller;
	@stack_count[epoch, ucaller] = sum($3 == 0 || this->size >= $3 ? 1024 : ($3 << 10) / (this->size > 0 ? this->size : 1));
	@stack_bytes[epoch, ucaller] = sum($3 == 0 || this->size >= $3 ? this->size : $3);
}

pid$target::realloc:return, pid$target::reallocarray:return
/this->take && this->address == 0 && this->released && this->size != 0/
{
	@untracked = sum(1);
}

tick-$1ms
{
	printf("memtop\tbegin\tmalloc\t%d\tlive\n", $2);
	printf("live\t%d\t", since);
	printa("%@d\n", @untracked);
	printa("class\t%d\t%@d\n", @start);
	printa("total\t%d\t%@d\t%@d\n", @total_count, @total_bytes);
	printa("stack\t%d\t%@d\t%@d\t%A\n", @stack_count, @stack_bytes);
	printf("memtop\tend\t%d\t%d\n", walltimestamp / 1000000, (timestamp - interval_start) / 1000000);
	interval_start = timestamp;
}
