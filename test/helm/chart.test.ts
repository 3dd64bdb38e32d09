import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig, SETTINGS } from '../../src/config.js';
import { validateManifest } from './models.js';
import { CHART_DIR, EXAMPLES_DIR, findDoc, findRenderer, readYaml, render, renderText, type K8sDoc, type Renderer } from './render.js';

const found = findRenderer();
if (found.kind === 'none') console.warn(`helm chart tests skipped: ${found.reason}`);
const renderer = found as Renderer;

const TLS_ENVS = new Set(['SCALER_TLS_CERT_FILE', 'SCALER_TLS_KEY_FILE', 'SCALER_TLS_CA_FILE']);

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  ports: { name: string; containerPort: number }[];
  env: EnvVar[];
  livenessProbe: Record<string, any>;
  readinessProbe: Record<string, any>;
  securityContext: Record<string, any>;
  resources?: Record<string, any>;
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}

function podSpec(deployment: K8sDoc): Record<string, any> {
  return (deployment.spec as any).template.spec;
}
function container(deployment: K8sDoc): Container {
  const containers = podSpec(deployment).containers as Container[];
  expect(containers).toHaveLength(1);
  return containers[0]!;
}
function envRecord(c: Container): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of c.env) if (e.value !== undefined) out[e.name] = e.value;
  return out;
}

const tmp = mkdtempSync(join(tmpdir(), 'chart-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
function valuesFile(name: string, values: unknown): string {
  const path = join(tmp, `${name}.yaml`);
  writeFileSync(path, stringify(values));
  return path;
}

/**
 * NOTES.txt as Helm prints it after an install. `helm template` does not render it, so a copy of
 * the chart wraps it in a ConfigMap that the renderer does print.
 */
function renderNotes(opts: { valueFiles?: string[]; release?: string; namespace?: string } = {}): string {
  const chartDir = mkdtempSync(join(tmp, 'notes-chart-'));
  cpSync(CHART_DIR, chartDir, { recursive: true });
  const notes = readFileSync(join(chartDir, 'templates/NOTES.txt'), 'utf8');
  rmSync(join(chartDir, 'templates/NOTES.txt'));
  writeFileSync(join(chartDir, 'templates/_notes.tpl'), `{{- define "test.notes" -}}\n${notes}{{- end }}\n`);
  writeFileSync(
    join(chartDir, 'templates/zz-notes.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: |\n{{ include "test.notes" . | indent 4 }}\n',
  );
  const docs = render(renderer, { ...opts, chartDir });
  return (findDoc(docs, 'ConfigMap').data as { notes: string }).notes;
}

const exampleValueFiles = readdirSync(EXAMPLES_DIR)
  .filter((f) => /^values-.*\.ya?ml$/.test(f))
  .map((f) => join(EXAMPLES_DIR, f));

describe.skipIf(found.kind === 'none')(`helm chart (rendered with ${found.kind})`, () => {
  it('has example values files to render', () => {
    expect(exampleValueFiles.map((f) => f.slice(EXAMPLES_DIR.length + 1))).toEqual(
      expect.arrayContaining(['values-production.yaml', 'values-tls.yaml']),
    );
  });

  const cases: [string, string[]][] = [['default values', []], ...exampleValueFiles.map((f): [string, string[]] => [f.slice(EXAMPLES_DIR.length + 1), [f]])];
  for (const [name, files] of cases) {
    it(`renders ${name} into documents that validate against their Kubernetes schemas`, () => {
      const docs = render(renderer, { valueFiles: files });
      expect(docs.map((d) => d.kind)).toEqual(expect.arrayContaining(['Deployment', 'Service', 'ServiceAccount']));
      for (const doc of docs) {
        expect(() => validateManifest(doc), `${doc.kind} ${doc.metadata.name}`).not.toThrow();
        expect(doc.metadata.namespace ?? 'keda').toBe('keda');
      }
    });

    it(`with ${name}, the Deployment's environment is a configuration the scaler accepts`, () => {
      const values = files.length > 0 ? readYaml<Record<string, any>>(files[0]!) : {};
      const env = envRecord(container(findDoc(render(renderer, { valueFiles: files }), 'Deployment')));
      for (const setting of SETTINGS) {
        if (TLS_ENVS.has(setting.env)) continue;
        expect(env, setting.env).toHaveProperty(setting.env);
      }
      const config = loadConfig([], env);
      expect(config.otlpGrpcPort).toBe(4317);
      expect(config.otlpHttpPort).toBe(4318);
      expect(config.httpPort).toBe(9090);
      if (values.config?.lookbackDelta === '30s') expect(config.lookbackDeltaMs).toBe(30_000);
      expect(config.tlsCertFile !== undefined).toBe(values.tls?.enabled === true);
    });
  }

  it('gives the Deployment the three named ports, probes on /healthz and /readyz, and a locked-down security context', () => {
    const deployment = findDoc(render(renderer), 'Deployment');
    const c = container(deployment);
    expect(c.image).toBe('ghcr.io/keda-otlp-scaler/keda-otlp-scaler:0.1.0');
    expect(c.ports.map((p) => [p.name, p.containerPort])).toEqual([
      ['otlp-grpc', 4317],
      ['otlp-http', 4318],
      ['http', 9090],
    ]);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http', scheme: 'HTTP' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http', scheme: 'HTTP' });
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 10001,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const pod = podSpec(deployment);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(c.resources?.requests).toBeDefined();
    expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
    const env = envRecord(c);
    expect(env).toMatchObject({ SCALER_RETENTION: '10m', SCALER_QUERY_MAX_SAMPLES: '2000000', SCALER_LAZY_SERIES: 'false', SCALER_LOG_FORMAT: 'json' });
    for (const name of TLS_ENVS) expect(env).not.toHaveProperty(name);
  });

  it('serves otlp-grpc 4317, otlp-http 4318 and http 9090 from the Service, selecting the pods', () => {
    const docs = render(renderer);
    const service = findDoc(docs, 'Service');
    const ports = (service.spec as any).ports as { name: string; port: number; targetPort: string }[];
    expect(ports.map((p) => [p.name, p.port, p.targetPort])).toEqual([
      ['otlp-grpc', 4317, 'otlp-grpc'],
      ['otlp-http', 4318, 'otlp-http'],
      ['http', 9090, 'http'],
    ]);
    const podLabels = (findDoc(docs, 'Deployment').spec as any).template.metadata.labels;
    expect(podLabels).toMatchObject((service.spec as any).selector);
    expect(service.metadata.name).toBe('keda-otlp-scaler');
  });

  it("serves under Kedify's Service name too when kedifyCompatService is enabled, with the same ports and pods", () => {
    const services = (docs: K8sDoc[]) => docs.filter((d) => d.kind === 'Service');
    expect(services(render(renderer)).map((s) => s.metadata.name)).toEqual(['keda-otlp-scaler']);
    const docs = render(renderer, { valueFiles: [valuesFile('kedify-compat', { kedifyCompatService: { enabled: true } })] });
    const [main, alias] = ['keda-otlp-scaler', 'keda-otel-scaler'].map((name) => services(docs).find((s) => s.metadata.name === name)!);
    expect(alias).toBeDefined();
    expect(() => validateManifest(alias!)).not.toThrow();
    expect(alias!.metadata.namespace).toBe('keda');
    expect((alias!.spec as any).selector).toEqual((main!.spec as any).selector);
    expect((alias!.spec as any).ports).toEqual((main!.spec as any).ports);
    expect(renderNotes({ valueFiles: [valuesFile('kedify-compat-notes', { kedifyCompatService: { enabled: true } })] })).toContain(
      "and, for manifests written for Kedify's otel-add-on, keda-otel-scaler.keda.svc:4318",
    );
    expect(renderNotes()).not.toContain('keda-otel-scaler');
    const renamed = render(renderer, { valueFiles: [valuesFile('kedify-compat-name', { kedifyCompatService: { enabled: true, name: 'otel-scaler' } })] });
    expect(services(renamed).map((s) => s.metadata.name)).toEqual(expect.arrayContaining(['keda-otlp-scaler', 'otel-scaler']));
  });

  it('leaves the optional objects out by default', () => {
    const kinds = render(renderer).map((d) => d.kind);
    expect(kinds).not.toContain('PodDisruptionBudget');
    expect(kinds).not.toContain('ServiceMonitor');
    expect(kinds).not.toContain('NetworkPolicy');
  });

  it('mounts an emptyDir data dir by default, and none when persistence is off', () => {
    const deployment = findDoc(render(renderer), 'Deployment');
    const c = container(deployment);
    expect(envRecord(c)).toMatchObject({ SCALER_DATA_DIR: '/var/lib/keda-otlp-scaler', SCALER_SNAPSHOT_INTERVAL: '30s' });
    expect(c.volumeMounts).toContainEqual({ name: 'data', mountPath: '/var/lib/keda-otlp-scaler' });
    expect((podSpec(deployment).volumes as any[]).find((v) => v.name === 'data')).toEqual({ name: 'data', emptyDir: { sizeLimit: '256Mi' } });
    expect((deployment.spec as any).strategy.type).toBe('RollingUpdate');
    expect(loadConfig([], envRecord(c)).dataDir).toBe('/var/lib/keda-otlp-scaler');
    expect(envRecord(c).SCALER_WAL).toBe('false');
    const logged = container(findDoc(render(renderer, { valueFiles: [valuesFile('wal', { persistence: { wal: true } })] }), 'Deployment'));
    expect(loadConfig([], envRecord(logged))).toMatchObject({ wal: true, dataDir: '/var/lib/keda-otlp-scaler' });

    const off = findDoc(render(renderer, { valueFiles: [valuesFile('no-data-dir', { persistence: { enabled: false } })] }), 'Deployment');
    const plain = container(off);
    expect(envRecord(plain).SCALER_DATA_DIR).toBe('');
    expect(loadConfig([], envRecord(plain)).dataDir).toBeUndefined();
    // The log lives in the data dir: without one it is off, whatever persistence.wal says.
    const walWithout = container(findDoc(render(renderer, { valueFiles: [valuesFile('wal-no-dir', { persistence: { enabled: false, wal: true } })] }), 'Deployment'));
    expect(loadConfig([], envRecord(walWithout)).wal).toBe(false);
    expect(plain.volumeMounts.map((m) => m.name)).not.toContain('data');
    expect((podSpec(off).volumes as any[]).map((v) => v.name)).not.toContain('data');
  });

  it('puts the data dir on a PersistentVolumeClaim when asked, with the Recreate strategy, or on an existing claim', () => {
    const file = valuesFile('pvc', { persistence: { claim: { enabled: true, size: '2Gi', storageClass: 'fast' } } });
    const docs = render(renderer, { valueFiles: [file] });
    const claim = findDoc(docs, 'PersistentVolumeClaim');
    expect(claim.metadata.name).toBe('keda-otlp-scaler-data');
    expect(claim.spec).toEqual({ accessModes: ['ReadWriteOnce'], storageClassName: 'fast', resources: { requests: { storage: '2Gi' } } });
    const deployment = findDoc(docs, 'Deployment');
    expect((podSpec(deployment).volumes as any[]).find((v) => v.name === 'data')).toEqual({ name: 'data', persistentVolumeClaim: { claimName: 'keda-otlp-scaler-data' } });
    expect((deployment.spec as any).strategy).toEqual({ type: 'Recreate' });
    for (const doc of docs) expect(() => validateManifest(doc), `${doc.kind} ${doc.metadata.name}`).not.toThrow();

    const existing = render(renderer, { valueFiles: [valuesFile('pvc-existing', { persistence: { claim: { enabled: true, existingClaim: 'scaler-data' } } })] });
    expect(existing.map((d) => d.kind)).not.toContain('PersistentVolumeClaim');
    expect((podSpec(findDoc(existing, 'Deployment')).volumes as any[]).find((v) => v.name === 'data').persistentVolumeClaim).toEqual({ claimName: 'scaler-data' });
  });

  it('mounts the TLS secret and points SCALER_TLS_* at the mounted files, with mTLS probes falling back to TCP', () => {
    const docs = render(renderer, { valueFiles: [join(EXAMPLES_DIR, 'values-tls.yaml')] });
    const deployment = findDoc(docs, 'Deployment');
    const c = container(deployment);
    const env = envRecord(c);
    expect(env.SCALER_TLS_CERT_FILE).toBe('/etc/keda-otlp-scaler/tls/server/tls.crt');
    expect(env.SCALER_TLS_KEY_FILE).toBe('/etc/keda-otlp-scaler/tls/server/tls.key');
    expect(env.SCALER_TLS_CA_FILE).toBe('/etc/keda-otlp-scaler/tls/client-ca/ca.crt');
    const volumes = podSpec(deployment).volumes as { name: string; secret?: { secretName: string; items: { key: string; path: string }[] } }[];
    const tls = volumes.find((v) => v.name === 'tls')!;
    expect(tls.secret?.secretName).toBe('keda-otlp-scaler-tls');
    expect(tls.secret?.items.map((i) => i.path)).toEqual(['tls.crt', 'tls.key']);
    const ca = volumes.find((v) => v.name === 'client-ca')!;
    expect(ca.secret?.secretName).toBe('keda-otlp-scaler-tls');
    expect(c.volumeMounts).toContainEqual({ name: 'tls', mountPath: '/etc/keda-otlp-scaler/tls/server', readOnly: true });
    expect(c.volumeMounts).toContainEqual({ name: 'client-ca', mountPath: '/etc/keda-otlp-scaler/tls/client-ca', readOnly: true });
    expect(c.readinessProbe).toMatchObject({ tcpSocket: { port: 'http' } });
    expect(c.readinessProbe).not.toHaveProperty('httpGet');
    const monitor = findDoc(docs, 'ServiceMonitor');
    expect((monitor.spec as any).endpoints[0]).toMatchObject({ port: 'http', path: '/metrics', scheme: 'https' });
    expect((monitor.spec as any).endpoints[0].tlsConfig.keySecret.name).toBe('prometheus-scaler-client-tls');
  });

  it('probes over HTTPS under TLS without client certificates, and uses a separate CA secret when given', () => {
    const file = valuesFile('tls-only', {
      tls: { enabled: true, secretName: 'server-cert', clientAuth: { enabled: false } },
    });
    const c = container(findDoc(render(renderer, { valueFiles: [file] }), 'Deployment'));
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http', scheme: 'HTTPS' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http', scheme: 'HTTPS' });
    expect(envRecord(c)).not.toHaveProperty('SCALER_TLS_CA_FILE');

    const mtls = valuesFile('mtls-ca', {
      tls: { enabled: true, secretName: 'server-cert', clientAuth: { enabled: true, caSecretName: 'client-ca', caKey: 'bundle.pem' } },
    });
    const deployment = findDoc(render(renderer, { valueFiles: [mtls] }), 'Deployment');
    const ca = (podSpec(deployment).volumes as any[]).find((v) => v.name === 'client-ca');
    expect(ca.secret).toMatchObject({ secretName: 'client-ca', items: [{ key: 'bundle.pem', path: 'bundle.pem' }] });
    expect(envRecord(container(deployment)).SCALER_TLS_CA_FILE).toBe('/etc/keda-otlp-scaler/tls/client-ca/bundle.pem');
  });

  it('refuses TLS without a secret name', () => {
    const file = valuesFile('tls-no-secret', { tls: { enabled: true } });
    expect(() => renderText(renderer, { valueFiles: [file] })).toThrow(/tls\.secretName is required/);
  });

  it('carries every pass-through value into the manifests', () => {
    const file = valuesFile('everything', {
      image: { digest: `sha256:${'a'.repeat(64)}`, pullPolicy: 'Always' },
      imagePullSecrets: [{ name: 'regcred' }],
      config: { maxSeries: 250000, queryMaxSamples: 120000000, maxRequestBytes: 1048576, lazySeries: true, errIfNotFound: true, logLevel: 'debug', promoteResourceAttributes: '' },
      ports: { otlpGrpc: 14317, otlpHttp: 14318, http: 19090 },
      extraArgs: ['--lookback-delta=2m'],
      extraEnv: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=400' }],
      extraVolumes: [{ name: 'scratch', emptyDir: {} }],
      extraVolumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
      podAnnotations: { 'example.com/team': 'observability' },
      podLabels: { tier: 'autoscaling' },
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule' }],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'In', values: ['infra'] }] }] } } },
      priorityClassName: 'high',
      serviceAccount: { create: false, name: 'existing-sa' },
      service: { type: 'NodePort', annotations: { 'example.com/a': 'b' }, ports: { otlpGrpc: 4317, otlpHttp: 4318, http: 9091 } },
      podDisruptionBudget: { enabled: true, minAvailable: 1, maxUnavailable: null },
      serviceMonitor: { enabled: true, namespace: 'monitoring', labels: { release: 'prom' }, interval: '15s' },
      networkPolicy: { enabled: true, otlpFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'keda' } } }] },
    });
    const docs = render(renderer, { valueFiles: [file], release: 'scaler', namespace: 'autoscaling' });
    for (const doc of docs) expect(() => validateManifest(doc), doc.kind).not.toThrow();
    expect(docs.map((d) => d.kind)).not.toContain('ServiceAccount');

    const deployment = findDoc(docs, 'Deployment');
    const pod = podSpec(deployment);
    const c = container(deployment);
    expect(c.image).toBe(`ghcr.io/keda-otlp-scaler/keda-otlp-scaler@sha256:${'a'.repeat(64)}`);
    expect(c.args).toEqual(['--lookback-delta=2m']);
    expect(c.ports.map((p) => p.containerPort)).toEqual([14317, 14318, 19090]);
    const env = envRecord(c);
    expect(env).toMatchObject({
      NODE_OPTIONS: '--max-old-space-size=400',
      SCALER_MAX_SERIES: '250000',
      SCALER_QUERY_MAX_SAMPLES: '120000000',
      SCALER_MAX_REQUEST_BYTES: '1048576',
      SCALER_LAZY_SERIES: 'true',
      SCALER_ERR_IF_NOT_FOUND: 'true',
      SCALER_PROMOTE_RESOURCE_ATTRIBUTES: '',
      SCALER_HTTP_PORT: '19090',
    });
    const config = loadConfig(c.args ?? [], env);
    expect(config).toMatchObject({ maxSeries: 250000, queryMaxSamples: 120000000, lazySeries: true, errIfNotFound: true, logLevel: 'debug', lookbackDeltaMs: 120_000, httpPort: 19090 });
    expect(c.volumeMounts).toContainEqual({ name: 'scratch', mountPath: '/scratch' });
    expect(pod).toMatchObject({
      serviceAccountName: 'existing-sa',
      priorityClassName: 'high',
      imagePullSecrets: [{ name: 'regcred' }],
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'dedicated', effect: 'NoSchedule' }],
    });
    expect(pod.affinity.nodeAffinity).toBeDefined();
    expect(pod.volumes).toContainEqual({ name: 'scratch', emptyDir: {} });
    expect((deployment.spec as any).template.metadata).toMatchObject({
      annotations: { 'example.com/team': 'observability' },
      labels: { tier: 'autoscaling', 'app.kubernetes.io/instance': 'scaler' },
    });

    const service = findDoc(docs, 'Service');
    expect(service.metadata).toMatchObject({ name: 'scaler-keda-otlp-scaler', namespace: 'autoscaling', annotations: { 'example.com/a': 'b' } });
    expect((service.spec as any).type).toBe('NodePort');
    expect((service.spec as any).ports.map((p: any) => p.port)).toEqual([4317, 4318, 9091]);

    expect(findDoc(docs, 'PodDisruptionBudget').spec).toMatchObject({ minAvailable: 1 });
    expect(findDoc(docs, 'PodDisruptionBudget').spec).not.toHaveProperty('maxUnavailable');
    const monitor = findDoc(docs, 'ServiceMonitor');
    expect(monitor.metadata).toMatchObject({ namespace: 'monitoring', labels: { release: 'prom' } });
    expect(monitor.spec).toMatchObject({ namespaceSelector: { matchNames: ['autoscaling'] }, endpoints: [{ interval: '15s', scheme: 'http' }] });
    const policy = findDoc(docs, 'NetworkPolicy');
    const rules = (policy.spec as any).ingress as any[];
    expect(rules[0].ports.map((p: any) => p.port)).toEqual(['otlp-grpc', 'otlp-http']);
    expect(rules[0].from).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'keda' } } }]);
    expect(rules[1]).not.toHaveProperty('from');
  });

  it('prints the scalerAddress and an example trigger after install', () => {
    const notes = renderNotes();
    expect(notes).toContain('scalerAddress for KEDA ScaledObjects:\n  keda-otlp-scaler.keda.svc:4318');
    expect(notes).toContain('scalerAddress: keda-otlp-scaler.keda.svc:4318');
    expect(notes).toContain('type: external');
    expect(notes).toContain('http://keda-otlp-scaler.keda.svc:4318/v1/metrics');
    expect(notes).not.toContain('enableTLS');

    const other = renderNotes({ release: 'scaler', namespace: 'autoscaling' });
    expect(other).toContain('scalerAddress: scaler-keda-otlp-scaler.autoscaling.svc:4318');

    const tls = renderNotes({ valueFiles: [join(EXAMPLES_DIR, 'values-tls.yaml')] });
    expect(tls).toContain('enableTLS: "true"');
    expect(tls).toContain('authenticationRef:');
    expect(tls).toContain('https://keda-otlp-scaler.keda.svc:4318/v1/metrics');

    const many = renderNotes({ valueFiles: [valuesFile('two-replicas', { replicaCount: 2 })] });
    expect(many).not.toContain('WARNING');
    expect(many).toContain('2 replicas: each forwards what it receives to the others');
    expect(renderNotes()).not.toContain('replicas: each forwards');
  });

  it('runs two replicas that find each other: a headless Service of every pod, a PDB of minAvailable 1, nodes apart', () => {
    const docs = render(renderer, { valueFiles: [valuesFile('replicas-2', { replicaCount: 2, networkPolicy: { enabled: true } })] });
    for (const doc of docs) expect(() => validateManifest(doc), `${doc.kind} ${doc.metadata.name}`).not.toThrow();
    const deployment = findDoc(docs, 'Deployment');
    expect((deployment.spec as any).replicas).toBe(2);
    const peers = docs.find((d) => d.kind === 'Service' && d.metadata.name === 'keda-otlp-scaler-peers')!;
    expect(peers.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true, selector: (findDoc(docs, 'Service').spec as any).selector });
    expect((peers.spec as any).ports.map((p: any) => p.targetPort)).toEqual(['otlp-grpc', 'http']);
    const c = container(deployment);
    const config = loadConfig([], envRecord(c));
    expect(config.peersDns).toBe('keda-otlp-scaler-peers.keda.svc');
    expect(config.advertiseAddress).toBe('$(POD_IP)');
    expect(c.env).toContainEqual({ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } });
    expect(c.env.findIndex((e) => e.name === 'POD_IP')).toBeLessThan(c.env.findIndex((e) => e.name === 'SCALER_ADVERTISE_ADDRESS'));
    expect(findDoc(docs, 'PodDisruptionBudget').spec).toMatchObject({ minAvailable: 1 });
    expect(podSpec(deployment).affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm).toMatchObject({
      topologyKey: 'kubernetes.io/hostname',
      labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'keda-otlp-scaler', 'app.kubernetes.io/instance': 'keda-otlp-scaler' } },
    });
    const rules = (findDoc(docs, 'NetworkPolicy').spec as any).ingress as any[];
    expect(rules).toContainEqual(expect.objectContaining({ from: [{ podSelector: { matchLabels: expect.objectContaining({ 'app.kubernetes.io/instance': 'keda-otlp-scaler' }) } }] }));

    const single = render(renderer);
    expect(single.filter((d) => d.metadata.name === 'keda-otlp-scaler-peers')).toEqual([]);
    expect(loadConfig([], envRecord(container(findDoc(single, 'Deployment')))).peersDns).toBe('');
    expect(podSpec(findDoc(single, 'Deployment')).affinity).toBeUndefined();
    const own = findDoc(render(renderer, { valueFiles: [valuesFile('replicas-affinity', { replicaCount: 3, affinity: { nodeAffinity: {} } })] }), 'Deployment');
    expect(podSpec(own).affinity).toEqual({ nodeAffinity: {} });
  });

  it('refuses a PersistentVolumeClaim data dir for several replicas', () => {
    const file = valuesFile('replicas-claim', { replicaCount: 2, persistence: { claim: { enabled: true } } });
    expect(() => renderText(renderer, { valueFiles: [file] })).toThrow(/one ReadWriteOnce volume cannot serve several replicas/);
  });

  it('refuses a PodDisruptionBudget with both minAvailable and maxUnavailable', () => {
    const file = valuesFile('pdb-both', { podDisruptionBudget: { enabled: true, minAvailable: 1, maxUnavailable: 1 } });
    expect(() => renderText(renderer, { valueFiles: [file] })).toThrow(/exactly one of minAvailable and maxUnavailable/);
  });
});

describe('chart files', () => {
  it('README lists every value of values.yaml', () => {
    const readme = readFileSync(join(CHART_DIR, 'README.md'), 'utf8');
    const values = readYaml<Record<string, unknown>>(join(CHART_DIR, 'values.yaml'));
    const missing = leafPaths(values).filter((p) => !readme.includes(`\`${p}\``));
    expect(missing).toEqual([]);
  });

  it('Chart.yaml is apiVersion v2 and the default image tag follows appVersion', () => {
    const chart = readYaml<Record<string, string>>(join(CHART_DIR, 'Chart.yaml'));
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'keda-otlp-scaler', type: 'application' });
    const pkg = JSON.parse(readFileSync(join(CHART_DIR, '../../package.json'), 'utf8')) as { version: string };
    expect(chart.appVersion).toBe(pkg.version);
  });
});

/** Dotted paths of values.yaml's settings: maps are walked, lists and empty maps are leaves. */
function leafPaths(obj: Record<string, unknown>, prefix = ''): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(obj)) {
    const path = prefix + key;
    const walk = value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0 && !OPAQUE.has(path);
    if (walk) out.push(...leafPaths(value as Record<string, unknown>, `${path}.`));
    else out.push(path);
  }
  return out;
}
/** Kubernetes objects passed through whole: the README documents them as one value. */
const OPAQUE = new Set(['podSecurityContext', 'securityContext', 'resources', 'strategy']);
