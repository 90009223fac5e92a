// memtop --serve: listen first (a port in use or a bad address is one line, before any tracer
// starts), then keep the exported tabs' tracers running and answer scrapes from the model.
// Loaded only with --serve, so batch mode and the TUI never load prom-client.
import type {Server} from 'node:http';
import type {ServeOptions} from '../flags.js';
import {exportedViews, MetricsModel} from '../model/metrics.js';
import {CgroupCache} from '../system/cgroups.js';
import type {SharedBackend} from '../backends/shared-backend.js';
import type {Backend} from '../types.js';
import {expose, metricsRegistry, type BuildInfo} from './exposition.js';
import {addressText, listen, metricsHandler} from './http.js';
import {profileHandler, ProfileServer} from './pprof-endpoint.js';
import {runExporter} from './serve.js';
import {tracerPids} from '../backends/tracer-process.js';
import {releaseStartPages} from '../system/start-pages.js';

export {ServeError} from './http.js';

export interface StartExporterOptions {
  serve: ServeOptions;
  /** The backend; a shared one runs the views it can together in one tracer. */
  backend: Backend & Partial<Pick<SharedBackend, 'shareTracer'>>;
  info: BuildInfo;
  pid?: number;
  signal: AbortSignal;
  warn: (text: string) => void;
}

/** A serving exporter: its server, the model it answers from, and its tracers' run (ends with the signal). */
export interface RunningExporter {
  server: Server;
  model: MetricsModel;
  /** The profiles' drill-downs. */
  profiles: ProfileServer;
  /** What it says it serves, for the one line memtop prints at start. */
  describe: string;
  done: Promise<void>;
}

/** Listen on the address (rejects with a ServeError), then start the tracers. */
export async function startExporter(options: StartExporterOptions): Promise<RunningExporter> {
  const {serve} = options;
  const model = new MetricsModel(exportedViews(serve.tabs, undefined, serve.views), {top: serve.top, pidLabel: serve.pidLabel});
  const registry = metricsRegistry(model, options.info);
  const profiles = new ProfileServer({backend: options.backend, signal: options.signal});
  const server = await listen(serve.address, metricsHandler(() => expose(registry), profileHandler(profiles)));
  options.signal.addEventListener('abort', () => server.close(), {once: true});
  const done = runExporter({
    backend: options.backend,
    model,
    intervalMs: serve.intervalMs,
    pid: options.pid,
    pidLabel: serve.pidLabel,
    cgroups: new CgroupCache(),
    signal: options.signal,
    warn: options.warn,
    afterStart: () => void releaseStartPages(tracerPids()),
  });
  return {server, model, profiles, describe: `serving http://${addressText(serve.address)}/metrics (${[...serve.tabs, ...serve.views.map(view => view.view)].join(', ')}) and /debug/pprof/allocs, /debug/pprof/heap`, done};
}
