// GET /debug/pprof/allocs and /debug/pprof/heap, as Go's net/http/pprof names them, for Parca,
// Pyroscope and go tool pprof: one process's malloc drill-down, run only while a request for it
// is open, for the seconds it asks, answered as a gzipped pprof profile. Identical requests
// share one tracer; distinct ones are limited; a bad request is a 4xx with one line saying why.
import type {IncomingMessage, ServerResponse} from 'node:http';
import {profileTypes, type TabId, type ViewId} from '../registry.js';
import {DrillProfile, encodeProfile} from '../model/pprof.js';
import {processBinaries} from '../system/binaries.js';
import {processExists} from '../system/process-names.js';
import {TracerError, type Backend} from '../types.js';

/** The endpoints, each a drill-down of the malloc tab: the requests' stacks or the live view's. */
export const PROFILE_ENDPOINTS: Readonly<Record<string, {tab: TabId; view?: ViewId; what: string}>> = {
  '/debug/pprof/allocs': {tab: 'malloc', what: 'bytes and calls requested from malloc by stack over the window'},
  '/debug/pprof/heap': {tab: 'malloc', view: 'live', what: 'bytes and allocations not freed at the end of the window, by stack'},
};

/** Seconds a window may last, and its default. */
export const MAX_SECONDS = 300;
export const DEFAULT_SECONDS = 10;
/** Distinct drill-downs running at once (identical requests share one). */
export const MAX_CONCURRENT = 4;

/** One request for a profile, checked. */
export interface ProfileRequest {
  path: string;
  pid: number;
  seconds: number;
  minAge: number;
  sampleBytes: number;
}

/** A request that cannot be served: its status and the one line that says why. */
export class ProfileRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ProfileRequestError';
  }
}

function wholeParameter(query: URLSearchParams, name: string, min: number, max: number, fallback: number | undefined): number {
  const raw = query.get(name);
  if (raw === null) {
    if (fallback === undefined) throw new ProfileRequestError(400, `${name} is required`);
    return fallback;
  }
  if (!/^\d{1,10}$/.test(raw)) throw new ProfileRequestError(400, `${name} must be a whole number, not ${JSON.stringify(raw.slice(0, 40))}`);
  const value = Number(raw);
  if (value < min || value > max) throw new ProfileRequestError(400, `${name} ${value} is out of range: use ${min} to ${max}`);
  return value;
}

/** The request a URL asks for, or a ProfileRequestError (404 for a path that is no profile, 400 for a bad parameter). */
export function parseProfileRequest(url: string): ProfileRequest {
  const parsed = new URL(url, 'http://memtop');
  const endpoint = PROFILE_ENDPOINTS[parsed.pathname];
  if (!endpoint) throw new ProfileRequestError(404, `memtop serves ${Object.keys(PROFILE_ENDPOINTS).join(' and ')}`);
  const live = endpoint.view === 'live';
  const allowed = ['pid', 'seconds', ...(live ? ['min_age', 'sample_bytes'] : [])];
  for (const name of new Set(parsed.searchParams.keys())) {
    if (!allowed.includes(name)) throw new ProfileRequestError(400, `unknown parameter ${JSON.stringify(name.slice(0, 40))}: ${parsed.pathname} takes ${allowed.join(', ')}`);
    if (parsed.searchParams.getAll(name).length > 1) throw new ProfileRequestError(400, `${name} is given more than once`);
  }
  if (!parsed.searchParams.has('pid')) throw new ProfileRequestError(400, 'pid is required: memtop profiles one process and does not guess which (find it in /metrics with --metrics-pid, or with ps)');
  return {
    path: parsed.pathname,
    pid: wholeParameter(parsed.searchParams, 'pid', 1, 4_194_304, undefined),
    seconds: wholeParameter(parsed.searchParams, 'seconds', 1, MAX_SECONDS, DEFAULT_SECONDS),
    minAge: live ? wholeParameter(parsed.searchParams, 'min_age', 0, 604_800, 0) : 0,
    sampleBytes: live ? wholeParameter(parsed.searchParams, 'sample_bytes', 0, 1_073_741_824, 0) : 0,
  };
}

interface Running {
  controller: AbortController;
  /** Requests waiting for it; when the last goes, the drill-down stops. */
  waiting: number;
  profile: Promise<Buffer>;
}

export interface ProfileServerOptions {
  backend: Backend;
  /** Whether a process is there (tests). */
  exists?: (pid: number) => boolean;
  maxConcurrent?: number;
  /** Interval of the drill-down, ms (tests). */
  intervalMs?: number;
  /** Ends every drill-down (memtop is quitting). */
  signal?: AbortSignal;
}

/** Runs the drill-downs the requests ask for, one per distinct request (see the module header). */
export class ProfileServer {
  private readonly running = new Map<string, Running>();
  private readonly exists: (pid: number) => boolean;
  private readonly maxConcurrent: number;
  private readonly intervalMs: number;

  constructor(private readonly options: ProfileServerOptions) {
    this.exists = options.exists ?? processExists;
    this.maxConcurrent = options.maxConcurrent ?? MAX_CONCURRENT;
    this.intervalMs = options.intervalMs ?? 1000;
    options.signal?.addEventListener('abort', () => {
      for (const running of this.running.values()) running.controller.abort();
    }, {once: true});
  }

  /** Drill-downs running now. */
  get tracers(): number {
    return this.running.size;
  }

  /** The profile a request asks for, once its window has passed; rejects with a ProfileRequestError or a TracerError. `closed` aborts when its client goes. */
  async profile(request: ProfileRequest, closed: AbortSignal): Promise<Buffer> {
    if (!this.exists(request.pid)) throw new ProfileRequestError(404, `no process with PID ${request.pid}`);
    const key = JSON.stringify(request);
    let running = this.running.get(key);
    if (!running) {
      if (this.options.signal?.aborted) throw new ProfileRequestError(503, 'memtop is quitting');
      if (this.running.size >= this.maxConcurrent) throw new ProfileRequestError(429, `${this.running.size} profiles are being taken already (at most ${this.maxConcurrent} at once): try again when one ends`);
      const controller = new AbortController();
      running = {controller, waiting: 0, profile: this.run(request, controller.signal)};
      const started = running;
      this.running.set(key, started);
      const forget = () => {
        if (this.running.get(key) === started) this.running.delete(key);
      };
      started.profile.then(forget, forget);
    }
    const joined = running;
    joined.waiting++;
    const leave = () => {
      if (--joined.waiting === 0) joined.controller.abort();
    };
    closed.addEventListener('abort', leave, {once: true});
    try {
      return await joined.profile;
    } finally {
      if (!closed.aborted) {
        closed.removeEventListener('abort', leave);
        joined.waiting--;
      }
    }
  }

  private async run(request: ProfileRequest, signal: AbortSignal): Promise<Buffer> {
    const endpoint = PROFILE_ENDPOINTS[request.path]!;
    const profile = new DrillProfile(profileTypes(endpoint.tab, endpoint.view)!, request.minAge);
    const inner = new AbortController();
    const stop = () => inner.abort();
    signal.addEventListener('abort', stop, {once: true});
    let observedMs = 0;
    try {
      const stacks = this.options.backend.startStacks({
        tab: endpoint.tab,
        pid: request.pid,
        intervalMs: this.intervalMs,
        signal: inner.signal,
        ...(endpoint.view ? {view: endpoint.view} : {}),
        ...(request.sampleBytes > 0 ? {sampleBytes: request.sampleBytes} : {}),
      });
      for await (const snapshot of stacks) {
        profile.add(snapshot);
        observedMs += snapshot.elapsedMs;
        // The window is counted from when every probe was attached (the first interval's start).
        if (observedMs >= request.seconds * 1000 - this.intervalMs / 10) break;
      }
    } catch (error) {
      // A process that exits during the window ends it: what was seen up to then is the profile.
      if (profile.intervals === 0 || !(error instanceof TracerError)) throw error;
    } finally {
      signal.removeEventListener('abort', stop);
      inner.abort();
    }
    if (signal.aborted) throw new ProfileRequestError(499, 'the client went away');
    const source = profile.source(processBinaries(request.pid));
    if (!source) throw new TracerError(`the tracer ended before its first interval (did PID ${request.pid} exit?)`);
    return encodeProfile(source);
  }
}

/** The handler of the /debug/pprof/ paths. */
export function profileHandler(server: ProfileServer) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    const fail = (status: number, text: string) => {
      if (response.destroyed) return;
      const body = `${text.split('\n')[0]}\n`;
      response.writeHead(status, {'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)), ...(status === 429 ? {'Retry-After': '10'} : {})});
      response.end(body);
    };
    if (request.method !== 'GET') {
      response.setHeader('Allow', 'GET');
      return fail(405, 'GET a profile');
    }
    let parsed: ProfileRequest;
    try {
      parsed = parseProfileRequest(request.url ?? '');
    } catch (error) {
      return fail(error instanceof ProfileRequestError ? error.status : 400, (error as Error).message);
    }
    const closed = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) closed.abort();
    });
    server.profile(parsed, closed.signal).then(
      data => {
        if (response.destroyed) return;
        response.writeHead(200, {
          'Content-Type': 'application/octet-stream',
          'Content-Disposition': `attachment; filename="${parsed.path.slice(parsed.path.lastIndexOf('/') + 1)}-${parsed.pid}.pb.gz"`,
          'Content-Length': String(data.length),
        });
        response.end(data);
      },
      (error: unknown) => {
        if (error instanceof ProfileRequestError) return fail(error.status, error.message);
        const message = error instanceof TracerError ? `${error.message}${error.hint ? ` (${error.hint})` : ''}` : error instanceof Error ? error.message : String(error);
        fail(500, `memtop could not take the profile: ${message}`);
      },
    );
  };
}
