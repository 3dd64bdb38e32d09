import { execFileSync } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pem {
  cert: Buffer;
  key: Buffer;
  certFile: string;
  keyFile: string;
  /** SHA-256 fingerprint as node's `getPeerCertificate().fingerprint256` prints it. */
  fingerprint256: string;
}

export interface TestCerts {
  dir: string;
  ca: Pem;
  /** For 127.0.0.1 and localhost, signed by `ca`. */
  server: Pem;
  /** A second server certificate from `ca`, what a rotation swaps in. */
  server2: Pem;
  /** A client certificate `ca` signed: accepted under mTLS. */
  client: Pem;
  /** For 127.0.0.1 and localhost as server and as client: what replicas present to each other under mTLS. */
  peer: Pem;
  /** A client certificate from an unrelated CA: refused under mTLS. */
  foreignClient: Pem;
  remove(): void;
}

/** Whether the `openssl` CLI can be run; the TLS tests skip without it. */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function pem(dir: string, name: string): Pem {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const cert = readFileSync(certFile);
  return { cert, key: readFileSync(keyFile), certFile, keyFile, fingerprint256: new X509Certificate(cert).fingerprint256 };
}

/**
 * A self-signed CA. The config file is ours so the CA extensions are exactly these, whatever the
 * system openssl.cnf adds.
 */
function makeCa(dir: string, name: string): Pem {
  const cnf = join(dir, `${name}.cnf`);
  writeFileSync(
    cnf,
    [
      '[req]',
      'distinguished_name = dn',
      'x509_extensions = ca_ext',
      'prompt = no',
      '[dn]',
      `CN = ${name}`,
      '[ca_ext]',
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
      '',
    ].join('\n'),
  );
  openssl(dir, [
    'req',
    '-x509',
    '-config',
    cnf,
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '2',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
  ]);
  return pem(dir, name);
}

/** A leaf certificate signed by `ca`, with the given extensions. */
function makeLeaf(dir: string, ca: Pem, name: string, extensions: string[]): Pem {
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, ['basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature', ...extensions, ''].join('\n'));
  openssl(dir, [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
  ]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    ca.certFile,
    '-CAkey',
    ca.keyFile,
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-days',
    '2',
    '-extfile',
    ext,
    '-out',
    `${name}.crt`,
  ]);
  return pem(dir, name);
}

const SERVER_EXT = ['extendedKeyUsage = serverAuth', 'subjectAltName = IP:127.0.0.1, DNS:localhost'];
const CLIENT_EXT = ['extendedKeyUsage = clientAuth'];
const PEER_EXT = ['extendedKeyUsage = serverAuth, clientAuth', 'subjectAltName = IP:127.0.0.1, DNS:localhost'];

/** Generates every certificate the TLS tests need into a fresh temp dir, with the `openssl` CLI. */
export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'scaler-certs-'));
  try {
    const ca = makeCa(dir, 'ca');
    const otherCa = makeCa(dir, 'other-ca');
    return {
      dir,
      ca,
      server: makeLeaf(dir, ca, 'server', SERVER_EXT),
      server2: makeLeaf(dir, ca, 'server2', SERVER_EXT),
      client: makeLeaf(dir, ca, 'client', CLIENT_EXT),
      peer: makeLeaf(dir, ca, 'peer', PEER_EXT),
      foreignClient: makeLeaf(dir, otherCa, 'foreign-client', CLIENT_EXT),
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
