// The exporter's HTTP endpoint: GET (or HEAD) /metrics answers with the exposition, paths under
// /debug/pprof/ go to the profiles' handler; any other path is 404 and any other method 405. It
// changes nothing. Listening failures become one line that says what to do.
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import type {ServeAddress} from '../flags.js';
import type {Exposition} from './exposition.js';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** The request handler: `expose` gives the exposition at each scrape; `profiles` answers /debug/pprof/... */
export function metricsHandler(expose: () => Promise<Exposition>, profiles?: Handler): Handler {
  return (request: IncomingMessage, response: ServerResponse): void => {
    const path = (request.url ?? '').split('?')[0];
    if (profiles && path?.startsWith('/debug/pprof/')) return profiles(request, response);
    const send = (status: number, text: string, headers: Record<string, string> = {}) => {
      response.writeHead(status, {'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)), ...headers});
      response.end(request.method === 'HEAD' ? undefined : text);
    };
    if (path !== '/metrics') return send(404, 'memtop serves /metrics only\n');
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(405, 'GET or HEAD /metrics\n', {Allow: 'GET, HEAD'});
    expose().then(
      ({contentType, body}) => send(200, body, {'Content-Type': contentType}),
      (error: unknown) => send(500, `memtop could not make the metrics: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}\n`),
    );
  };
}

/** Listening failed: the message is the one line the user sees. */
export class ServeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServeError';
  }
}

/** host:port as the user wrote it ([v6]:port for IPv6). */
export function addressText(address: ServeAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** Why listening failed, in words, and what to do. */
function explainListenError(error: NodeJS.ErrnoException, address: ServeAddress): string {
  const where = `cannot serve on ${addressText(address)}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return `${where}: the port is in use (another memtop?): pick another with --serve HOST:PORT`;
    case 'EADDRNOTAVAIL':
      return `${where}: no interface of this machine has that address: use one it has, e.g. 127.0.0.1 or 0.0.0.0`;
    case 'EACCES':
    case 'EPERM':
      return `${where}: not allowed to listen there: pick a port above 1023 or run as root`;
    case 'EAFNOSUPPORT':
      return `${where}: this machine has no IPv6: use an IPv4 address`;
    default:
      return `${where}: ${error.code ?? error.message.split('\n')[0]}`;
  }
}

/** Listen on `address` only, serving `handler`; rejects with a ServeError. */
export function listen(address: ServeAddress, handler: Handler): Promise<Server> {
  const server = createServer(handler);
  // Slow or idle clients do not hold sockets for long; a scrape is one small request (a profile's
  // answer waits for its window, which requestTimeout, the time to receive a request, does not count).
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 65_000;
  server.maxConnections = 64;
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(new ServeError(explainListenError(error, address))));
    server.listen({host: address.host, port: address.port, exclusive: true}, () => resolve(server));
  });
}
