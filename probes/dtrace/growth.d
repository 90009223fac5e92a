/*
 * memtop, growth tab (DTrace, illumos): resident memory made and released per process, from the
 * process's resident set size (curpsinfo->pr_rssize, in KB) sampled at each of its address-space
 * faults (vminfo:::as_fault): a rise since the last sample is memory made resident, a fall is
 * memory released. Zero-fill faults (vminfo:::zfod: fresh anonymous pages) count as anonymous,
 * the rest of a rise as file and shared memory. A release shows at the process's next fault.
 *
 * Usage: dtrace -s growth.d INTERVAL_MS PID
 *   $1  interval in milliseconds (one snapshot each)
 *   $2  only this process (0 = every process)
 *
 * Output: one snapshot per interval, fields separated by one TAB. D cannot escape strings, so
 * the process name is the LAST field. Values in bytes, in the registry's order: net, anon+,
 * file+, freed, rss (the largest resident size seen in the interval), then the samples that
 * grew. A row that grew nothing (0 last) is dropped by memtop, as printa() prints every key.
 *   memtop<TAB>begin<TAB>growth
 *   row<TAB><pid><TAB><net><TAB><anon><TAB><file><TAB><freed><TAB><rss><TAB><grew><TAB><execname>
 *   memtop<TAB>end<TAB><wall clock, ms since the epoch><TAB><interval length, ms>
 * Example:
 *   memtop	begin	growth
 *   row	977	20971520	20971520	0	0	734003200	5120	java
 *   memtop	end	1718000000123	1000
 */

#pragma D option quiet
#pragma D option switchrate=10hz
#pragma D option aggrate=10hz

BEGIN
{
	interval_start = timestamp;
}

vminfo:::zfod
/$2 == 0 || pid == $2/
{
	@anon[pid, execname] = sum(arg0 * `_pagesize);
	@file[pid, execname] = sum(-arg0 * `_pagesize);
}

vminfo:::as_fault
/$2 == 0 || pid == $2/
{
	this->rss = (int64_t)curpsinfo->pr_rssize * 1024;
	this->change = last[pid] == 0 ? 0 : this->rss - last[pid];
	last[pid] = this->rss;
	@net[pid, execname] = sum(this->change);
	@file[pid, execname] = sum(this->change > 0 ? this->change : 0);
	@freed[pid, execname] = sum(this->change < 0 ? -this->change : 0);
	@rss[pid, execname] = max(this->rss);
	@grows[pid, execname] = sum(this->change > 0 ? 1 : 0);
}

proc:::exit
/last[pid] != 0/
{
	last[pid] = 0;
}

tick-$1ms
{
	printf("memtop\tbegin\tgrowth\n");
	printa("row\t%d\t%@d\t%@d\t%@d\t%@d\t%@d\t%@d\t%s\n", @net, @anon, @file, @freed, @rss, @grows);
	printf("memtop\tend\t%d\t%d\n", walltimestamp / 1000000, (timestamp - interval_start) / 1000000);
	trunc(@net);
	trunc(@anon);
	trunc(@file);
	trunc(@freed);
	trunc(@rss);
	trunc(@grows);
	interval_start = timestamp;
}
