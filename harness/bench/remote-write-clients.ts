import { compress } from 'snappyjs';
import { loadProto } from '../../src/protobuf.js';
import type { DataSet } from './dataset.js';
import { postingClient, type OtlpClient } from '../clients/otlp.js';

export type RemoteWriteVersion = 'v1' | 'v2';

const CONTENT_TYPES: Record<RemoteWriteVersion, string> = {
  v1: 'application/x-protobuf;proto=prometheus.WriteRequest',
  v2: 'application/x-protobuf;proto=io.prometheus.write.v2.Request',
};
/** The counters' start, as the OTLP requests carry it (encode.ts), so 2.0 stores the same. */
const START_OFFSET_MS = 3_600_000;

/**
 * One snappy-compressed remote-write request with the samples of series [from, to) at one step,
 * the data set's labels sent as they are (they are the label sets Prometheus stores for the peer).
 * 1.0 is what the peer's harness sends Prometheus; 2.0 adds the symbol table and start timestamps.
 */
export function encodeRemoteWriteBatch(data: DataSet, step: number, from: number, to: number, version: RemoteWriteVersion): Buffer {
  const values = data.values[step]!;
  const timestamp = data.timeAt(step);
  if (version === 'v1') {
    const WriteRequest = loadProto('prometheus/remote.proto').lookupType('prometheus.WriteRequest');
    const timeseries = [];
    for (let k = from; k < to; k++) timeseries.push({ labels: data.series[k]!.labels, samples: [{ value: values[k]!, timestamp }] });
    return compress(Buffer.from(WriteRequest.encode({ timeseries }).finish()));
  }
  const Request = loadProto('io/prometheus/write/v2/types.proto').lookupType('io.prometheus.write.v2.Request');
  const symbols = [''];
  const refs = new Map<string, number>([['', 0]]);
  const ref = (s: string) => {
    let i = refs.get(s);
    if (i === undefined) {
      i = symbols.push(s) - 1;
      refs.set(s, i);
    }
    return i;
  };
  const start = data.endMs - START_OFFSET_MS;
  const timeseries = [];
  for (let k = from; k < to; k++) {
    const s = data.series[k]!;
    const labels = [...s.labels].sort((a, b) => (a.name < b.name ? -1 : 1));
    timeseries.push({
      labels_refs: labels.flatMap((l) => [ref(l.name), ref(l.value)]),
      samples: [{ value: values[k]!, timestamp, start_timestamp: s.kind === 'gauge' ? 0 : start }],
      metadata: { type: s.kind === 'gauge' ? 2 : 1 },
    });
  }
  return compress(Buffer.from(Request.encode({ symbols, timeseries }).finish()));
}

/** Every request of the data set, step by step, `batch` series a request. */
export function encodeRemoteWriteAll(data: DataSet, batch: number, version: RemoteWriteVersion): Buffer[][] {
  const steps: Buffer[][] = [];
  for (let step = 0; step < data.values.length; step++) {
    const requests: Buffer[] = [];
    for (let from = 0; from < data.series.length; from += batch) {
      requests.push(encodeRemoteWriteBatch(data, step, from, Math.min(data.series.length, from + batch), version));
    }
    steps.push(requests);
  }
  return steps;
}

/** Posts pre-encoded remote-write bodies to `/api/v1/write`; anything but 204 is a failure. */
export function remoteWriteClient(port: number, maxSockets: number, version: RemoteWriteVersion): OtlpClient {
  const headers = {
    'content-type': CONTENT_TYPES[version],
    'content-encoding': 'snappy',
    'x-prometheus-remote-write-version': version === 'v1' ? '0.1.0' : '2.0.0',
  };
  return postingClient(port, maxSockets, '/api/v1/write', headers, (status, reply) =>
    status === 204 ? undefined : `remote write ${status}: ${reply.toString('utf8').slice(0, 200)}`,
  );
}
