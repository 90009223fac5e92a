// The exporter's exposition and HTTP endpoint, in process: prom-client's output of the model
// passes `promtool check metrics` (hostile names included), GET and HEAD /metrics answer, any
// other path is 404 and any other method 405, and listening failures are one line each.
import assert from 'node:assert/strict';
import {spawnSync, type SpawnSyncReturns} from 'node:child_process';
import {createServer, request, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {after, before, test, type TestContext} from 'node:test';
import {exportedViews, MetricsModel} from '../source/model/metrics.js';
import {TAB_IDS} from '../source/registry.js';
import {expose, metricsRegistry} from '../source/exporter/exposition.js';
import {listen, metricsHandler, ServeError} from '../source/exporter/http.js';
import {IN_CI} from './helpers/requirements.js';

const INFO = {version: '0.1.0', backend: 'bpftrace', bpftrace: '0.17.0'};

function model(pidLabel = false): MetricsModel {
  const metrics = new MetricsModel(exportedViews(TAB_IDS), {top: 3, pidLabel});
  const labelsOf = (row: {comm?: string; cache?: string; pid?: number}): Record<string, string> =>
    row.cache !== undefined ? {cache: row.cache} : {comm: row.comm ?? '?', cgroup: 'system.slice/x.service', ...(pidLabel ? {pid: String(row.pid)} : {})};
  metrics.record('malloc', 'process', [{pid: 1, comm: 'a "quoted" \\ name\nnewline', count: 10, bytes: 640}, {pid: 2, comm: 'ünïcødé 名前', count: 5, bytes: 80}], labelsOf, 0);
  metrics.record('slab', 'cache', [{cache: 'kmalloc-64', count: 3, bytes: 192}], labelsOf, 0);
  metrics.tracerState('malloc', 'process', true);
  return metrics;
}

function promtool(t: TestContext): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v promtool'], {encoding: 'utf8'}).stdout.trim();
  if (found) return found;
  if (IN_CI) assert.fail('cannot run under CI: promtool is not installed (apt-get install prometheus)');
  t.skip('promtool is not installed (apt-get install prometheus)');
  return undefined;
}

test('the exposition passes promtool check metrics, with and without the pid label', async t => {
  const tool = promtool(t);
  if (!tool) return;
  for (const pidLabel of [false, true]) {
    const {body, contentType} = await expose(metricsRegistry(model(pidLabel), INFO));
    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    const result: SpawnSyncReturns<string> = spawnSync(tool, ['check', 'metrics'], {input: body, encoding: 'utf8'});
    assert.equal(result.status, 0, `promtool: ${result.stdout}${result.stderr}\n${body}`);
    assert.match(body, /^# TYPE memtop_malloc_calls_total counter$/m);
    assert.match(body, /^memtop_malloc_calls_total\{comm="a \\"quoted\\" \\\\ name\\nnewline",cgroup="system.slice\/x.service"(,pid="1")?\} 10$/m);
    assert.match(body, /^memtop_slab_cache_allocations_total\{cache="kmalloc-64"\} 3$/m);
    assert.match(body, /^memtop_build_info\{version="0.1.0",backend="bpftrace",bpftrace="0.17.0"\} 1$/m);
    assert.match(body, /^memtop_tracer_up\{tab="malloc"\} 1$/m);
    assert.match(body, /^memtop_tracer_up\{tab="brk"\} 0$/m);
    assert.match(body, /^memtop_tracer_restarts_total\{tab="slab"\} 0$/m);
    assert.doesNotMatch(body, /^process_|^nodejs_/m, 'no default process metrics');
  }
});

test('every scrape shows the model as it is then: counters set to totals, not added twice', async () => {
  const metrics = model();
  const registry = metricsRegistry(metrics, INFO);
  const first = await expose(registry);
  const second = await expose(registry);
  assert.equal(first.body, second.body);
  metrics.record('majfault', 'process', [{pid: 9, comm: 'x', count: 4}], () => ({comm: 'x', cgroup: '/'}), 1000);
  assert.match((await expose(registry)).body, /^memtop_major_faults_total\{comm="x",cgroup="\/"\} 4$/m);
});

let server: Server;
let port: number;
let scrapes = 0;

before(async () => {
  server = createServer(
    metricsHandler(async () => {
      scrapes++;
      return {contentType: 'text/plain; version=0.0.4; charset=utf-8', body: 'memtop_build_info 1\n'};
    }),
  );
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(() => server.close());

function ask(method: string, path: string): Promise<{status: number; headers: Record<string, string | string[] | undefined>; body: string}> {
  return new Promise((resolve, reject) => {
    const sent = request({host: '127.0.0.1', port, method, path}, response => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', chunk => (body += chunk));
      response.on('end', () => resolve({status: response.statusCode ?? 0, headers: response.headers, body}));
    });
    sent.on('error', reject);
    sent.end();
  });
}

test('GET /metrics is the exposition; HEAD has its headers and no body', async () => {
  const got = await ask('GET', '/metrics');
  assert.equal(got.status, 200);
  assert.equal(got.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  assert.equal(got.body, 'memtop_build_info 1\n');
  const head = await ask('HEAD', '/metrics');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
  assert.equal(head.headers['content-length'], String('memtop_build_info 1\n'.length));
  assert.equal((await ask('GET', '/metrics?name[]=x')).status, 200, 'query parameters (Prometheus params) are ignored');
});

test('any other path is 404 and any other method 405, and neither makes a scrape', async () => {
  const before = scrapes;
  for (const path of ['/', '/metrics/', '/metrics/x', '/debug', '/../etc/passwd', '/favicon.ico']) assert.equal((await ask('GET', path)).status, 404, path);
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
    const got = await ask(method, '/metrics');
    assert.equal(got.status, 405, method);
    assert.equal(got.headers.allow, 'GET, HEAD');
  }
  assert.equal(scrapes, before);
});

test('listening: a port in use and an address this machine lacks are one line each', async () => {
  const handler = metricsHandler(async () => ({contentType: 'text/plain', body: ''}));
  await assert.rejects(listen({host: '127.0.0.1', port}, handler), (error: unknown) => {
    assert.ok(error instanceof ServeError);
    assert.equal(error.message, `cannot serve on 127.0.0.1:${port}: the port is in use (another memtop?): pick another with --serve HOST:PORT`);
    return true;
  });
  // 192.0.2.0/24 is TEST-NET-1: never an address of this machine.
  await assert.rejects(listen({host: '192.0.2.1', port: 9464}, handler), /^ServeError: cannot serve on 192\.0\.2\.1:9464: no interface of this machine has that address/);
  const ours = await listen({host: '127.0.0.1', port: 0}, handler);
  assert.equal((ours.address() as AddressInfo).address, '127.0.0.1', 'bound to the address given only');
  ours.close();
});
