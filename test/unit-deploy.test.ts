// deploy/kubernetes/: each object is valid against the Kubernetes (and Prometheus Operator) schema
// of kubernetes-models, and the DaemonSet has what a node agent needs: the host's pid namespace,
// privileges, tracefs, a readiness probe and scrape annotations on the port memtop serves,
// requests and limits, and a Service and PodMonitor that select its pods by that port's name.
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {test} from 'node:test';
import {fileURLToPath} from 'node:url';
import {parseAllDocuments} from 'yaml';
import {Namespace} from 'kubernetes-models/v1/Namespace';
import {Service} from 'kubernetes-models/v1/Service';
import {DaemonSet} from 'kubernetes-models/apps/v1/DaemonSet';
import {PodMonitor} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import {parseFlags} from '../source/flags.js';

const DEPLOY = fileURLToPath(new URL('../deploy/', import.meta.url));

/** The objects of a manifest file, each checked against its schema (validate() throws when invalid). */
function objects(file: string): Record<string, unknown>[] {
  const documents = parseAllDocuments(readFileSync(`${DEPLOY}kubernetes/${file}`, 'utf8'));
  return documents.map(document => {
    assert.deepEqual(document.errors, [], `${file} parses as YAML`);
    const object = document.toJS() as {kind: string};
    const models = {Namespace, Service, DaemonSet, PodMonitor} as Record<string, new (data: never) => {validate(): void}>;
    const Model = models[object.kind];
    assert.ok(Model, `${file}: a known kind, not ${object.kind}`);
    new Model(object as never).validate();
    return object as Record<string, unknown>;
  });
}

const manifest = objects('memtop.yaml');
const daemonSet = new DaemonSet(manifest.find(object => object.kind === 'DaemonSet') as never);
const service = new Service(manifest.find(object => object.kind === 'Service') as never);
const pod = daemonSet.spec!.template;
const container = pod.spec!.containers[0]!;

test('every object in deploy/kubernetes/ is valid against its schema', () => {
  assert.deepEqual(manifest.map(object => object.kind), ['Namespace', 'DaemonSet', 'Service']);
  assert.deepEqual(objects('podmonitor.yaml').map(object => object.kind), ['PodMonitor']);
});

test('the DaemonSet runs memtop --serve, with arguments memtop accepts, on the port it declares', () => {
  const options = parseFlags(container.args!);
  assert.equal(options.serve?.address.host, '0.0.0.0');
  const port = container.ports!.find(candidate => candidate.name === 'metrics');
  assert.equal(port?.containerPort, options.serve?.address.port);
  assert.equal(pod.metadata!.annotations!['prometheus.io/scrape'], 'true');
  assert.equal(pod.metadata!.annotations!['prometheus.io/port'], String(port?.containerPort));
  assert.equal(pod.metadata!.annotations!['prometheus.io/path'], '/metrics');
  assert.equal(container.readinessProbe?.httpGet?.path, '/metrics');
  assert.equal(container.readinessProbe?.httpGet?.port, 'metrics');
});

test('the DaemonSet sees the host\'s processes with the privileges and tracefs tracing needs', () => {
  assert.equal(pod.spec!.hostPID, true);
  assert.equal(container.securityContext?.privileged, true);
  const mounts = new Map(container.volumeMounts!.map(mount => [mount.mountPath, mount.name]));
  const volumes = new Map(pod.spec!.volumes!.map(volume => [volume.name, volume.hostPath?.path]));
  for (const path of ['/sys/kernel/tracing', '/sys/kernel/debug']) assert.equal(volumes.get(mounts.get(path)!), path, `${path} from the host`);
  assert.ok(pod.spec!.tolerations?.some(toleration => toleration.operator === 'Exists'), 'it runs on every node, tainted or not');
});

test('requests and limits are set, limits above requests', () => {
  const {requests, limits} = container.resources!;
  const mebibytes = (value: string | number | undefined) => Number(/^(\d+)Mi$/.exec(String(value))?.[1]);
  const millicores = (value: string | number | undefined) => Number(/^(\d+)m$/.exec(String(value))?.[1]);
  assert.ok(mebibytes(requests?.memory) > 0 && mebibytes(limits?.memory) > mebibytes(requests?.memory), JSON.stringify(container.resources));
  assert.ok(millicores(requests?.cpu) > 0 && millicores(limits?.cpu) > millicores(requests?.cpu), JSON.stringify(container.resources));
});

test('the Service and the PodMonitor select the DaemonSet\'s pods and its metrics port', () => {
  const labels = pod.metadata!.labels!;
  for (const [key, value] of Object.entries(service.spec!.selector!)) assert.equal(labels[key], value);
  assert.equal(service.spec!.ports![0]!.targetPort, 'metrics');
  const podMonitor = new PodMonitor(objects('podmonitor.yaml')[0] as never);
  for (const [key, value] of Object.entries(podMonitor.spec.selector.matchLabels!)) assert.equal(labels[key], value);
  assert.equal(podMonitor.spec.podMetricsEndpoints![0]!.port, 'metrics');
  assert.equal(podMonitor.metadata!.namespace, daemonSet.metadata!.namespace);
});

test('the Containerfile starts FROM debian:trixie-slim in both stages and runs memtop', () => {
  const containerfile = readFileSync(`${DEPLOY}Containerfile`, 'utf8');
  assert.deepEqual([...containerfile.matchAll(/^FROM (\S+)/gm)].map(match => match[1]), ['debian:trixie-slim', 'debian:trixie-slim']);
  assert.match(containerfile, /^ENTRYPOINT \["memtop"\]$/m);
  assert.match(containerfile, /^EXPOSE 9464$/m);
});
