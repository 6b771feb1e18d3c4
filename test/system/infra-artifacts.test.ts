// Structure checks of the deployment artifacts (there is no Docker engine or cluster here): the
// Kubernetes manifests, the compose file and the Dockerfiles under infra/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const INFRA = join(ROOT, 'infra');

type Obj = Record<string, unknown>;
interface K8sObject { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: Obj; data?: Record<string, string> }
interface Container { name: string; ports?: { name?: string; containerPort: number }[]; env?: Obj[]; envFrom?: Obj[]; readinessProbe?: Obj; livenessProbe?: Obj; resources?: { requests?: Obj; limits?: Obj }; securityContext?: Obj; volumeMounts?: { name: string; mountPath: string }[] }
interface PodSpec { securityContext?: Obj; containers: Container[]; volumes?: ({ name: string } & Obj)[] }
interface DeploymentSpec { replicas: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } }

/** Every object of every manifest, parsed as Kubernetes does (YAML 1.1: `0400` is octal). */
function loadManifests(): { file: string; obj: K8sObject }[] {
  const out: { file: string; obj: K8sObject }[] = [];
  for (const file of readdirSync(join(INFRA, 'k8s')).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(INFRA, 'k8s', file), 'utf8'), { version: '1.1' })) {
      if ('errors' in doc && doc.errors.length) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const obj = doc.toJS() as K8sObject | null;
      if (obj) out.push({ file, obj });
    }
  }
  return out;
}

const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

test('kubernetes manifests: every object is well formed and listed in the kustomization', () => {
  const all = loadManifests();
  assert.ok(all.length >= 10, `found ${all.length} objects`);
  for (const { file, obj } of all) {
    assert.equal(typeof obj.apiVersion, 'string', `${file}: apiVersion`);
    assert.equal(typeof obj.kind, 'string', `${file}: kind`);
    if (obj.kind === 'Kustomization') continue; // kustomize's own file, not an API object
    assert.equal(typeof obj.metadata?.name, 'string', `${file}: metadata.name`);
    assert.match(obj.metadata.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, `${file}: ${obj.metadata.name} is a DNS-1123 name`);
    if (obj.kind !== 'Namespace') assert.equal(obj.metadata.namespace, 'gtb', `${file}: ${obj.kind} in namespace gtb`);
  }
  const kustomization = all.find((o) => o.obj.kind === 'Kustomization')!.obj as unknown as { resources: string[] };
  const files = readdirSync(join(INFRA, 'k8s')).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
  assert.deepEqual([...kustomization.resources].sort(), files, 'the kustomization lists every manifest');
  const kinds = new Set(all.map((o) => o.obj.kind));
  for (const kind of ['Deployment', 'Service', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'NetworkPolicy', 'ConfigMap', 'ServiceAccount']) {
    assert.ok(kinds.has(kind), `a ${kind}`);
  }
});

test('kubernetes deployments: probes, resources, a locked-down securityContext, secrets as files', () => {
  const all = loadManifests().map((o) => o.obj);
  const deployments = all.filter((o) => o.kind === 'Deployment');
  const configMaps = new Set(all.filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata.name));
  assert.deepEqual(deployments.map((d) => d.metadata.name).sort(), ['gtb-broker', 'gtb-streamer']);
  for (const d of deployments) {
    const spec = d.spec as unknown as DeploymentSpec;
    const name = d.metadata.name;
    assert.ok(matches(spec.selector.matchLabels, spec.template.metadata.labels), `${name}: selector matches the pod labels`);
    const pod = spec.template.spec;
    assert.equal(pod.securityContext?.runAsNonRoot, true, `${name}: runAsNonRoot`);
    assert.deepEqual(pod.securityContext?.seccompProfile, { type: 'RuntimeDefault' }, `${name}: seccomp RuntimeDefault`);
    const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
    for (const c of pod.containers) {
      const where = `${name}/${c.name}`;
      const ports = c.ports ?? [];
      for (const probe of ['readinessProbe', 'livenessProbe'] as const) {
        const get = (c[probe] as { httpGet?: { path: string; port: string | number } } | undefined)?.httpGet;
        assert.ok(get, `${where}: ${probe} over HTTP`);
        assert.ok(ports.some((p) => p.name === get.port || p.containerPort === get.port), `${where}: ${probe} targets a declared port`);
      }
      if (name === 'gtb-broker') {
        assert.equal((c.readinessProbe as { httpGet: { path: string } }).httpGet.path, '/readyz');
        assert.equal((c.livenessProbe as { httpGet: { path: string } }).httpGet.path, '/healthz');
      }
      for (const kind of ['requests', 'limits'] as const) {
        assert.ok(c.resources?.[kind]?.cpu && c.resources[kind].memory, `${where}: resources.${kind} cpu and memory`);
      }
      const sc = c.securityContext ?? {};
      assert.equal(sc.readOnlyRootFilesystem, true, `${where}: readOnlyRootFilesystem`);
      assert.equal(sc.allowPrivilegeEscalation, false, `${where}: no privilege escalation`);
      assert.deepEqual((sc.capabilities as { drop?: string[] } | undefined)?.drop, ['ALL'], `${where}: drops ALL capabilities`);
      assert.notEqual(sc.runAsNonRoot, false, `${where}: does not undo runAsNonRoot`);
      assert.deepEqual(sc.seccompProfile ?? pod.securityContext?.seccompProfile, { type: 'RuntimeDefault' });
      // Secrets only as files: no variable may come from a Secret.
      for (const e of c.env ?? []) assert.equal((e.valueFrom as Obj | undefined)?.secretKeyRef, undefined, `${where}: env ${String(e.name)} is not a secret`);
      for (const e of c.envFrom ?? []) assert.equal(e.secretRef, undefined, `${where}: no envFrom secretRef`);
      for (const m of c.volumeMounts ?? []) assert.ok(volumes.has(m.name), `${where}: mount ${m.name} has a volume`);
      const mounted = new Set((c.volumeMounts ?? []).map((m) => m.name));
      const secretVolumes = [...volumes.values()].filter((v) => v.secret);
      assert.ok(secretVolumes.length >= 1, `${name}: mounts its secrets as volumes`);
      for (const v of secretVolumes) {
        assert.ok(mounted.has(v.name), `${where}: secret volume ${v.name} is mounted`);
        assert.equal((v.secret as { defaultMode?: number }).defaultMode, 0o400, `${name}: ${v.name} is readable by its owner only`);
      }
      assert.ok((c.volumeMounts ?? []).some((m) => m.mountPath === '/tmp'), `${where}: a writable /tmp beside the read-only root`);
    }
    for (const v of volumes.values()) {
      const cm = v.configMap as { name: string } | undefined;
      if (cm) assert.ok(configMaps.has(cm.name), `${name}: ConfigMap ${cm.name} exists`);
    }
  }
  const streamer = deployments.find((d) => d.metadata.name === 'gtb-streamer')!;
  assert.equal((streamer.spec as unknown as DeploymentSpec).replicas, 2, 'the streamer runs two replicas');
});

test('kubernetes services, PDB, HPA and network policies point at the deployments', () => {
  const all = loadManifests().map((o) => o.obj);
  const deployments = all.filter((o) => o.kind === 'Deployment').map((d) => ({ name: d.metadata.name, spec: d.spec as unknown as DeploymentSpec }));
  const podsOf = (selector: Record<string, string>) => deployments.filter((d) => matches(selector, d.spec.template.metadata.labels));
  for (const svc of all.filter((o) => o.kind === 'Service')) {
    const spec = svc.spec as { selector: Record<string, string>; ports: { port: number; targetPort: string | number }[] };
    const targets = podsOf(spec.selector);
    assert.equal(targets.length, 1, `Service ${svc.metadata.name} selects one Deployment`);
    const ports = targets[0]!.spec.template.spec.containers.flatMap((c) => c.ports ?? []);
    for (const p of spec.ports) assert.ok(ports.some((cp) => cp.name === p.targetPort || cp.containerPort === p.targetPort), `Service ${svc.metadata.name}: targetPort ${p.targetPort} exists`);
  }
  const pdbs = all.filter((o) => o.kind === 'PodDisruptionBudget');
  const brokerPdb = pdbs.find((p) => podsOf((p.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels).some((d) => d.name === 'gtb-broker'));
  assert.ok(brokerPdb, 'a PodDisruptionBudget covers the broker');
  const broker = deployments.find((d) => d.name === 'gtb-broker')!;
  const minAvailable = (brokerPdb.spec as { minAvailable?: number }).minAvailable;
  if (minAvailable !== undefined) assert.ok(minAvailable < broker.spec.replicas, 'the PDB still lets a node drain');
  const hpa = all.find((o) => o.kind === 'HorizontalPodAutoscaler')!;
  const hspec = hpa.spec as { scaleTargetRef: { apiVersion: string; kind: string; name: string }; minReplicas: number; maxReplicas: number };
  assert.deepEqual(hspec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'gtb-broker' });
  assert.ok(hspec.minReplicas >= 2 && hspec.minReplicas <= hspec.maxReplicas);
  assert.ok(hspec.minReplicas > (minAvailable ?? 0), 'the HPA never scales below what the PDB keeps');
  const policies = all.filter((o) => o.kind === 'NetworkPolicy');
  assert.ok(policies.some((p) => matches((p.spec as { podSelector: { matchLabels?: Record<string, string> } }).podSelector.matchLabels ?? {}, broker.spec.template.metadata.labels)),
    'a NetworkPolicy selects the broker pods');
  assert.ok(policies.some((p) => Object.keys((p.spec as { podSelector: Obj }).podSelector).length === 0), 'a default-deny policy');
});

test('compose: the services reference existing Dockerfiles, config files and declared secrets', () => {
  const compose = parse(readFileSync(join(INFRA, 'compose.yaml'), 'utf8'), { merge: true }) as {
    services: Record<string, { build?: { context: string; dockerfile: string }; volumes?: string[]; secrets?: string[]; environment?: Record<string, string> }>;
    secrets: Record<string, { file: string }>;
  };
  for (const name of ['redis', 'sandbox', 'idp', 'broker-1', 'broker-2', 'streamer-1', 'streamer-2']) assert.ok(compose.services[name], `service ${name}`);
  for (const [name, svc] of Object.entries(compose.services)) {
    if (svc.build) {
      const context = resolve(INFRA, svc.build.context);
      assert.ok(existsSync(join(context, svc.build.dockerfile)), `${name}: ${svc.build.dockerfile} exists`);
    }
    for (const volume of svc.volumes ?? []) {
      const source = volume.split(':')[0]!;
      if (source.startsWith('.')) assert.ok(existsSync(resolve(INFRA, source)), `${name}: ${source} exists`);
    }
    for (const secret of svc.secrets ?? []) assert.ok(compose.secrets[secret], `${name}: secret ${secret} is declared`);
    const configFile = Object.entries(svc.environment ?? {}).find(([k]) => k.endsWith('CONFIG_FILE'))?.[1];
    if (configFile) assert.ok((svc.volumes ?? []).some((v) => v.split(':')[1] === configFile), `${name}: ${configFile} is mounted`);
    for (const [k, v] of Object.entries(svc.environment ?? {})) assert.doesNotMatch(k, /SECRET|PASSWORD|KEY$/, `${name}: ${k}=${v.slice(0, 3)}… is not a secret in a variable`);
  }
  for (const [name, s] of Object.entries(compose.secrets)) assert.match(s.file, /^\.\/secrets\//, `secret ${name} is a git-ignored file`);
});

/** The Dockerfile's instructions, comments and blank lines dropped and continuation lines joined. */
function instructions(text: string): string[] {
  return text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

test('dockerfiles: multi-stage on node 24 pinned by digest, non-root, HEALTHCHECK, production dependencies only', () => {
  const files = readdirSync(join(INFRA, 'docker')).filter((f) => f.endsWith('.Dockerfile'));
  assert.deepEqual(files.sort(), ['broker.Dockerfile', 'dev-idp.Dockerfile', 'sandbox.Dockerfile', 'streamer.Dockerfile']);
  const digests = new Set<string>();
  for (const file of files) {
    const text = readFileSync(join(INFRA, 'docker', file), 'utf8');
    const lines = instructions(text);
    const froms = lines.filter((l) => /^FROM\s/i.test(l));
    assert.ok(froms.length >= 2, `${file}: multi-stage`);
    for (const f of froms) {
      // Every stage on the Node 24 LTS image, by an immutable index digest (a tag alone can move under a rebuild).
      const m = /^FROM (node:24-bookworm-slim)@(sha256:[0-9a-f]{64})(\s+AS\s+\w+)?$/i.exec(f);
      assert.ok(m, `${file}: ${f} is node:24-bookworm-slim@sha256:<digest>`);
      digests.add(m[2]!);
    }
    // The comment says which tag the digest is and how to update it.
    assert.match(text, /^# Base image: node:24-bookworm-slim .*digest/m, `${file}: names the tag of the digest`);
    assert.match(text, /^#\s+docker buildx imagetools inspect node:24-bookworm-slim/m, `${file}: says how to update the digest`);
    const lastFrom = lines.lastIndexOf(froms.at(-1)!);
    const build = lines.slice(0, lastFrom);
    const runtime = lines.slice(lastFrom);
    assert.ok(build.some((l) => /npm ci\b.*--ignore-scripts/.test(l)), `${file}: npm ci --ignore-scripts in the build stage`);
    assert.ok(build.some((l) => /turbo run build/.test(l)), `${file}: turbo build in the build stage`);
    assert.ok(runtime.some((l) => /^COPY --from=build/.test(l)), `${file}: the runtime stage copies the build`);
    // No package manager in the final image: the stage deletes the base image's npm, npx, corepack and
    // yarn (as root, before USER) and nothing after that calls one.
    const strip = runtime.findIndex((l) => /^RUN rm -rf /.test(l));
    assert.ok(strip > 0, `${file}: the runtime stage removes the package managers`);
    const removed = runtime[strip]!.split(/\s+/).slice(3);
    for (const path of ['/usr/local/lib/node_modules', '/usr/local/bin/npm', '/usr/local/bin/npx', '/usr/local/bin/corepack', '/usr/local/bin/yarn', '/usr/local/bin/yarnpkg', '/opt/yarn-v*']) {
      assert.ok(removed.includes(path), `${file}: the runtime stage removes ${path}`);
    }
    const users = runtime.filter((l) => /^USER\s/.test(l));
    assert.equal(users.length, 1, `${file}: one USER in the runtime stage`);
    assert.doesNotMatch(users[0]!, /^USER\s+(root|0)(:|$)/, `${file}: non-root`);
    assert.ok(runtime.indexOf(users[0]!) > strip, `${file}: the package managers are removed before USER`);
    for (const l of runtime.slice(strip + 1)) assert.doesNotMatch(l, /\b(npm|npx|corepack|yarn)\b/, `${file}: nothing in the runtime stage calls a package manager: ${l}`);
    assert.ok(runtime.some((l) => /^HEALTHCHECK\s/.test(l)), `${file}: HEALTHCHECK`);
    assert.ok(runtime.some((l) => /^CMD\s/.test(l)), `${file}: CMD`);
    // Sources copied from the context must exist (the context is the repository root).
    for (const l of lines.filter((x) => /^COPY\s/.test(x) && !x.includes('--from='))) {
      const parts = l.split(/\s+/).filter((p) => !p.startsWith('--')).slice(1, -1);
      for (const p of parts) assert.ok(existsSync(join(ROOT, p)), `${file}: COPY source ${p} exists`);
    }
    if (file !== 'dev-idp.Dockerfile') assert.ok(build.some((l) => /npm prune --omit=dev/.test(l)), `${file}: dev dependencies pruned`);
  }
  assert.equal(digests.size, 1, `one base image digest across the Dockerfiles, found ${[...digests].join(', ')}`);
});
