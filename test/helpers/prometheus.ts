// A real Prometheus for the exporter's end-to-end test: Debian's `prometheus` package, scraping
// given targets on 127.0.0.1 every second, with its data in a temporary directory, and its HTTP
// API's instant queries.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {createServer} from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {startLineChild, type LineChild} from './child-lines.js';
import {waitForValue} from './wait-for-value.js';

/** A port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** One sample of an instant query's vector. */
export interface Sample {
  metric: Record<string, string>;
  value: number;
}

/** A running Prometheus. */
export interface Prometheus {
  port: number;
  process: LineChild;
  /** An instant query at `timeSeconds` (Unix time; default now). */
  query(expression: string, timeSeconds?: number): Promise<Sample[]>;
  /** The targets' health by job, from /api/v1/targets. */
  targets(): Promise<{job: string; health: string; lastError: string}[]>;
  stop(): Promise<void>;
}

/** The scrape configuration: every job scraped every second, rules evaluated every second. */
export function prometheusConfig(targets: {job: string; port: number}[]): string {
  const jobs = targets.map(target => `  - job_name: ${target.job}\n    static_configs:\n      - targets: ['127.0.0.1:${target.port}']`);
  return `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n${jobs.join('\n')}\n`;
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  const response = await fetch(url);
  const body = (await response.json()) as Record<string, unknown>;
  if (body.status !== 'success') throw new Error(`${url}: ${JSON.stringify(body).slice(0, 500)}`);
  return body;
}

/** Start Prometheus scraping `targets` and resolve once it is ready (/-/ready). */
export async function startPrometheus(targets: {job: string; port: number}[]): Promise<Prometheus> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'memtop-prometheus-'));
  const config = path.join(directory, 'prometheus.yml');
  writeFileSync(config, prometheusConfig(targets));
  const port = await freePort();
  const child = startLineChild(
    'prometheus',
    [`--config.file=${config}`, `--storage.tsdb.path=${path.join(directory, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    {what: 'prometheus', cwd: directory},
  );
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await child.stop('SIGTERM', 5000);
    rmSync(directory, {recursive: true, force: true});
  };
  try {
    await waitForValue(
      async () => {
        if (child.hasExited()) throw new Error(`prometheus exited\n${child.describe()}`);
        return fetch(`${base}/-/ready`).then(response => response.ok, () => false);
      },
      {timeoutMs: 60_000, intervalMs: 200, what: 'prometheus to be ready'},
      () => child.describe(),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    port,
    process: child,
    async query(expression, timeSeconds) {
      const parameters = new URLSearchParams({query: expression, ...(timeSeconds === undefined ? {} : {time: timeSeconds.toFixed(3)})});
      const body = await getJson(`${base}/api/v1/query?${parameters.toString()}`);
      const data = body.data as {resultType: string; result: {metric: Record<string, string>; value: [number, string]}[]};
      if (data.resultType !== 'vector') throw new Error(`${expression}: a ${data.resultType}, not a vector`);
      return data.result.map(sample => ({metric: sample.metric, value: Number(sample.value[1])}));
    },
    async targets() {
      const body = await getJson(`${base}/api/v1/targets`);
      const active = (body.data as {activeTargets: {labels: Record<string, string>; health: string; lastError: string}[]}).activeTargets;
      return active.map(target => ({job: target.labels.job ?? '', health: target.health, lastError: target.lastError}));
    },
    stop,
  };
}
