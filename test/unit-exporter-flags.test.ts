// --serve and its companions: the default address, what an address may be, which tabs are
// exported, and a one-line UsageError for every bad value and every flag that does not go with it.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {DEFAULT_EXPORT, DEFAULT_EXPORT_INTERVAL_MS, parseFlags, parseServeAddress, UsageError} from '../source/flags.js';
import {TAB_IDS} from '../source/registry.js';

test('--serve alone is headless on 127.0.0.1:9464, exporting every tab but malloc, top 20, no pid label, every 5 s', () => {
  for (const argv of [['--serve'], ['--serve='], ['--serve', '127.0.0.1:9464']]) {
    assert.deepEqual(parseFlags(argv).serve, {address: {host: '127.0.0.1', port: 9464}, tabs: DEFAULT_EXPORT, views: [], pidLabel: false, top: 20, intervalMs: DEFAULT_EXPORT_INTERVAL_MS, tui: false}, argv.join(' '));
  }
  assert.equal(DEFAULT_EXPORT_INTERVAL_MS, 5000);
  assert.deepEqual(DEFAULT_EXPORT, TAB_IDS.filter(tab => tab !== 'malloc' && tab !== 'minfault'), 'every tab but those on a hot path of every process');
  assert.equal(parseFlags([]).serve, undefined);
});

test('--serve takes an IPv4 or bracketed IPv6 address with a port, and the companions their values', () => {
  assert.deepEqual(parseServeAddress('0.0.0.0:9100'), {host: '0.0.0.0', port: 9100});
  assert.deepEqual(parseServeAddress('[::1]:9464'), {host: '::1', port: 9464});
  assert.deepEqual(parseServeAddress('[::]:1'), {host: '::', port: 1});
  assert.deepEqual(parseServeAddress('[fe80::1:2]:65535'), {host: 'fe80::1:2', port: 65535});
  assert.deepEqual(parseServeAddress('[::ffff:127.0.0.1]:80'), {host: '::ffff:127.0.0.1', port: 80});
  const options = parseFlags(['--serve', '--tui', '--export', 'slab, malloc,slab', '--metrics-pid', '--metrics-top', '5', '--tab', 'slab', '--interval', '500']);
  // With the TUI, the exporter reads at the TUI's interval, so that the two share their tracers.
  assert.deepEqual(options.serve, {address: {host: '127.0.0.1', port: 9464}, tabs: ['malloc', 'slab'], views: [], pidLabel: true, top: 5, intervalMs: 500, tui: true});
  assert.equal(options.tab, 'slab');
  assert.equal(parseFlags(['--serve', '--tui']).serve?.intervalMs, 1000);
  assert.equal(parseFlags(['--serve', '--export-interval', '1000']).serve?.intervalMs, 1000);
  assert.equal(parseFlags(['--serve', '--export-interval', '15049']).serve?.intervalMs, 15000, 'rounded to 100 ms, as --interval');
  assert.equal(parseFlags(['--serve', '--tui', '--interval', '500', '--export-interval', '2000']).serve?.intervalMs, 2000);
  assert.equal(parseFlags(['--serve', '--pid', '1']).pid, 1);
});

test('bad addresses, tabs and counts are one line each, quoting what was typed without its control characters', () => {
  const cases: [string[], RegExp][] = [
    [['--serve', ':9464'], /^--serve ":9464" has no host: give HOST:PORT with an IP address, e.g. 127\.0\.0\.1:9464/],
    [['--serve', '9464'], /^--serve "9464" is not an address/],
    [['--serve', 'localhost:9464'], /localhost is not an IP address/],
    [['--serve', '256.1.1.1:80'], /256\.1\.1\.1 is not an IP address/],
    [['--serve', '::1:9464'], /is not an address/],
    [['--serve', '[::1::2]:9464'], /is not an IP address/],
    [['--serve', '[1.2.3.4]:9464'], /is not an IP address/],
    [['--serve', '127.0.0.1:0'], /port 0 is out of range: use 1 to 65535/],
    [['--serve', '127.0.0.1:65536'], /port 65536 is out of range/],
    [['--serve', '127.0.0.1:http'], /is not an address/],
    [['--serve', '\u001b[31m1.2.3.4:1'], /^--serve "\S*\[31m1\.2\.3\.4:1" is not an address/],
    [['--serve', 'a', '--serve', 'b'], /^--serve is given 2 times/],
    [['--serve', '--serve'], /^--serve is given 2 times/],
    [['--serve', '--export', 'nope'], /^--export: unknown tab "nope": use a comma-separated list of malloc, brk/],
    [['--serve', '--export', ' , '], /^--export needs tab names/],
    [['--serve', '--metrics-top', '0'], /^--metrics-top 0 is out of range: use 1 to 1000 label sets/],
    [['--serve', '--metrics-top', '1001'], /out of range/],
    [['--serve', '--metrics-top', 'ten'], /^--metrics-top must be a whole number, not "ten"/],
    [['--serve', '--metrics-top', '5', '--metrics-top', '6'], /^--metrics-top is given 2 times/],
    [['--serve', '--export-interval', '5s'], /^--export-interval must be a whole number, not "5s"/],
    [['--serve', '--export-interval', '50'], /^--export-interval 50 is out of range: use 100 to \d+ milliseconds/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(
      () => parseFlags(argv),
      (error: unknown) => error instanceof UsageError && message.test(error.message) && !/[\n\u001b]/.test(error.message),
      `${JSON.stringify(argv)} should fail with ${message}`,
    );
  }
});

test('--serve refuses batch, JSON, replay and stacks (and the TUI-only flags without --tui); its companions need it', () => {
  const cases: [string[], RegExp][] = [
    [['--serve', '--batch'], /^--serve and --batch are two ways to run/],
    [['--serve', '--json'], /^--json is for batch mode; --serve speaks the Prometheus text format/],
    [['--serve', '--replay', 'x.ndjson'], /^--serve traces live/],
    [['--serve', '--stacks', '--pid', '1'], /^--stacks is for batch mode; --serve exports tables/],
    [['--serve', '--iterations', '3'], /^--iterations is for batch mode/],
    [['--serve', '--check'], /^--check does not serve/],
    [['--serve', '--record', 'x.ndjson'], /^--record does not go with --serve/],
    [['--serve', '--tab', 'slab'], /^--tab picks the TUI's tab: add --tui, or choose what --serve exports with --export TABS/],
    [['--serve', '--interval', '500'], /^--interval is the TUI's refresh/],
    [['--serve', '--comm', 'x'], /^--comm filters the TUI's table/],
    [['--tui'], /^--tui goes with --serve/],
    [['--export', 'brk'], /^--export goes with --serve/],
    [['--metrics-pid'], /^--metrics-pid goes with --serve/],
    [['--metrics-top', '3'], /^--metrics-top goes with --serve/],
    [['--export-interval', '5000'], /^--export-interval goes with --serve/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(() => parseFlags(argv), (error: unknown) => error instanceof UsageError && message.test(error.message) && !error.message.includes('\n'), `${JSON.stringify(argv)} should fail with ${message}`);
  }
});

test('--export live exports the live view\'s gauges, alone or beside tabs; it is no tab of its own', () => {
  assert.deepEqual(parseFlags(['--serve', '--export', 'live']).serve?.views, [{tab: 'malloc', view: 'live'}]);
  assert.deepEqual(parseFlags(['--serve', '--export', 'live']).serve?.tabs, []);
  const both = parseFlags(['--serve', '--export', 'brk,live,slab']).serve;
  assert.deepEqual([both?.tabs, both?.views], [['brk', 'slab'], [{tab: 'malloc', view: 'live'}]]);
  assert.throws(() => parseFlags(['--serve', '--export', 'lvie']), (error: unknown) => error instanceof UsageError && /unknown tab "lvie".*live/.test(error.message));
});

test('--pprof goes with --batch --stacks on a tab that writes profiles, and a file name', () => {
  assert.equal(parseFlags(['--batch', '--stacks', '--pid', '1', '--pprof', 'a.pb.gz']).pprof, 'a.pb.gz');
  assert.equal(parseFlags(['--batch', '--stacks', '--pid', '1', '--live', '--pprof', 'a.pb.gz']).view, 'live');
  assert.equal(parseFlags(['--batch', '--stacks', '--tab', 'slab', '--cache', 'filp', '--pprof', 'a.pb.gz']).pprof, 'a.pb.gz');
  for (const [argv, message] of [
    [['--batch', '--pid', '1', '--pprof', 'a'], /--pprof goes with --batch --stacks/],
    [['--stacks', '--pid', '1', '--pprof', 'a'], /--stacks is for batch mode/],
    [['--batch', '--stacks', '--pid', '1', '--tab', 'majfault', '--pprof', 'a'], /--pprof writes allocations: use --tab malloc or --tab slab/],
    [['--batch', '--stacks', '--pid', '1', '--pprof', ''], /--pprof needs a file name/],
    [['--serve', '--pprof', 'a'], /--pprof is for batch mode/],
  ] as const) {
    assert.throws(() => parseFlags([...argv]), (error: unknown) => error instanceof UsageError && message.test(error.message), argv.join(' '));
  }
});
