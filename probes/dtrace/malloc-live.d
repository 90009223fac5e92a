/*
 * memtop, malloc tab, live view (DTrace): the bytes and allocations still outstanding in ONE
 * process (the pid provider needs a target: --pid), among those made since the script started,
 * by age class. Every allocator entry point is probed; an allocation is learnt at its return
 * (the address is known only there) and paired with its free by address, in the dynamic
 * variables live[] and class[] (their cap is dynvarsize: DTrace itself reports "dynamic variable
 * drops" when it is full). Frees of memory allocated before the script started find nothing in
 * live[] and are ignored. realloc counts the old block as freed at its entry and the block it
 * returns as a new allocation; when it fails the old block lives on, counted as untracked. An
 * allocator that calls another (reallocarray jumps into realloc) finds its request taken.
 * Age classes: class k began at @start[k] and lasts 2^(k / 16) s, as in memtop's bpftrace scripts.
 *
 * Usage: dtrace -Z -p PID -s malloc-live.d INTERVAL_MS PID
 *   -Z  lets the script start where a library lacks an entry point (reallocarray, say)
 *   $1  interval in milliseconds (one snapshot each)
 *   $2  the process, same as -p
 *
 * Output: one snapshot per interval, fields separated by one TAB, the process name last (D
 * cannot escape it).
 *   memtop<TAB>begin<TAB>malloc<TAB>live
 *   live<TAB><wall clock the script started, ms since the epoch><TAB><allocations not tracked>
 *   class<TAB><k><TAB><wall clock it began, ms since the epoch>                    (one per class)
 *   amount<TAB><pid><TAB><class><TAB><allocations outstanding><TAB><their bytes><TAB><execname>
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

/* The free of a tracked block (free's, and realloc's old block); live[] holds size + 1, class[] class + 1. */
pid$target::free:entry, pid$target::realloc:entry, pid$target::reallocarray:entry
{
	self->released = 0;
}

pid$target::free:entry, pid$target::realloc:entry, pid$target::reallocarray:entry
/arg0 != 0 && live[arg0] != 0/
{
	@count[pid, class[arg0] - 1, execname] = sum(-1);
	@bytes[pid, class[arg0] - 1, execname] = sum(-(live[arg0] - 1));
	live[arg0] = 0;
	class[arg0] = 0;
	self->released = 1;
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
	/* posix_memalign returns 0 and leaves the block at *memptr. */
	this->address = probefunc == "posix_memalign" ? (arg1 == 0 && self->memptr != 0 ? *(uint64_t *)copyin(self->memptr, sizeof (uint64_t)) : 0) : arg1;
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
	@count[pid, epoch, execname] = sum(1);
	@bytes[pid, epoch, execname] = sum(this->size);
}

pid$target::realloc:return, pid$target::reallocarray:return
/this->take && this->address == 0 && this->released && this->size != 0/
{
	@untracked = sum(1);
}

tick-$1ms
{
	printf("memtop\tbegin\tmalloc\tlive\n");
	printf("live\t%d\t", since);
	printa("%@d\n", @untracked);
	printa("class\t%d\t%@d\n", @start);
	printa("amount\t%d\t%d\t%@d\t%@d\t%s\n", @count, @bytes);
	printf("memtop\tend\t%d\t%d\n", walltimestamp / 1000000, (timestamp - interval_start) / 1000000);
	interval_start = timestamp;
}
