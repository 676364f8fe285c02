import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create as createTar } from 'tar';
import { afterEach } from 'vitest';

const made: string[] = [];

/** A fresh directory removed after the current test. */
export async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'advx-data-'));
  made.push(directory);
  return directory;
}

afterEach(async () => {
  await Promise.all(made.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
});

function header(magic: number, dims: number[]): Uint8Array {
  const bytes = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, magic);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  return bytes;
}

const concat = (...parts: Uint8Array[]) => Buffer.concat(parts);

/** An IDX image file whose pixel `k` (over the whole file) is `k % 256`. */
export function idxImages(count: number, rows = 28, cols = 28): Uint8Array {
  const pixels = Uint8Array.from({ length: count * rows * cols }, (_, k) => k % 256);
  return concat(header(0x803, [count, rows, cols]), pixels);
}

export function idxLabels(labels: number[]): Uint8Array {
  return concat(header(0x801, [labels.length]), Uint8Array.from(labels));
}

/** A gzipped tar of `files` (path inside the archive to contents), made by node-tar from a scratch directory. */
export async function tarGzOf(files: Record<string, Uint8Array>): Promise<Buffer> {
  const root = await temporaryDirectory();
  const source = join(root, 'members');
  for (const [name, bytes] of Object.entries(files)) {
    await mkdir(dirname(join(source, name)), { recursive: true });
    await writeFile(join(source, name), bytes);
  }
  const archive = join(root, 'archive.tar.gz');
  await createTar({ file: archive, cwd: source, gzip: true, portable: true }, Object.keys(files));
  return readFile(archive);
}

export interface TestServer {
  baseUrl: string;
  /** Paths requested so far, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** Serves `files` by path on 127.0.0.1 (404 for anything else). */
export async function serveFiles(files: Record<string, Uint8Array>): Promise<TestServer> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const body = files[path];
    if (!body) {
      response.writeHead(404).end('not found');
      return;
    }
    response.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/files/`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Where the real MNIST files are, or null: `$MNIST_DIR`, then shared/ beside the checkout, then /work/shared. */
export function realMnistDirectory(): string | null {
  const checkout = fileURLToPath(new URL('../../..', import.meta.url));
  const candidates = [process.env.MNIST_DIR, join(checkout, '..', 'shared', 'datasets', 'mnist'), '/work/shared/datasets/mnist'];
  return candidates.find((d): d is string => !!d && existsSync(join(d, 'train-images-idx3-ubyte.gz'))) ?? null;
}
