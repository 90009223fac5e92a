// `npm run probes`: writes probes/bpftrace/*.bt from probes/src/bpftrace (see probe-generator.ts).
import {readdirSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {bpftraceFragments, generateBpftraceScript} from './probe-generator.js';

const PROBES = fileURLToPath(new URL('../../probes/', import.meta.url));
const sources = path.join(PROBES, 'src', 'bpftrace');
const tick = readFileSync(path.join(sources, 'tick.bt'), 'utf8');
const fragments = bpftraceFragments(path.join(sources, 'include'));
for (const name of readdirSync(sources).filter(file => file.endsWith('.bt') && file !== 'tick.bt').sort()) {
  const script = generateBpftraceScript(name, readFileSync(path.join(sources, name), 'utf8'), tick, fragments);
  writeFileSync(path.join(PROBES, 'bpftrace', name), script);
}
