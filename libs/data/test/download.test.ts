import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DATASETS, DataError, loadDataset, offlineHint } from '@advx/data';
import { downloadFile } from '../src/download.js';
import { realMnistDirectory, serveFiles, temporaryDirectory, type TestServer } from './helpers.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  vi.unstubAllEnvs();
});

describe('downloadFile', () => {
  const body = Buffer.from('some dataset bytes\n'.repeat(1000));

  it('writes the file under its final name when the sum matches', async () => {
    server = await serveFiles({ '/files/a.gz': body });
    const directory = await temporaryDirectory();
    const destination = join(directory, 'nested', 'a.gz');
    await downloadFile(`${server.baseUrl}a.gz`, destination, sha256(body));
    expect(await readFile(destination)).toEqual(body);
    expect(await readdir(join(directory, 'nested'))).toEqual(['a.gz']);
  });

  it('on a sum mismatch names the URL and both sums, and leaves nothing behind', async () => {
    server = await serveFiles({ '/files/a.gz': body });
    const directory = await temporaryDirectory();
    const url = `${server.baseUrl}a.gz`;
    const expected = 'ab'.repeat(32);
    const error = await downloadFile(url, join(directory, 'a.gz'), expected).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).message).toBe(`${url}: sha256 mismatch: expected ${expected}, got ${sha256(body)}`);
    expect(await readdir(directory)).toEqual([]);
  });

  it('on HTTP 404 names the URL and the status, and leaves nothing behind', async () => {
    server = await serveFiles({});
    const directory = await temporaryDirectory();
    const url = `${server.baseUrl}missing.gz`;
    await expect(downloadFile(url, join(directory, 'missing.gz'), sha256(body))).rejects.toThrow(
      `${url}: download failed (HTTP 404 Not Found)`,
    );
    expect(await readdir(directory)).toEqual([]);
  });

  it('on a refused connection names the URL', async () => {
    server = await serveFiles({});
    const url = `${server.baseUrl}a.gz`;
    await server.close();
    server = undefined;
    const directory = await temporaryDirectory();
    await expect(downloadFile(url, join(directory, 'a.gz'), sha256(body))).rejects.toThrow(`${url}: download failed (ECONNREFUSED)`);
    expect(await readdir(directory)).toEqual([]);
  });
});

describe('loadDataset downloading into the cache', () => {
  const mnist = realMnistDirectory();

  it.skipIf(!mnist)('fetches MNIST once into $ADVX_CACHE_DIR, verified against the published sums', async () => {
    const names = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];
    const files = Object.fromEntries(await Promise.all(names.map(async (n) => [`/files/${n}`, await readFile(join(mnist!, n))])));
    server = await serveFiles(files);
    const cache = await temporaryDirectory();
    vi.stubEnv('MNIST_DIR', '');
    vi.stubEnv('ADVX_CACHE_DIR', cache);

    const first = await loadDataset('mnist', { baseUrl: server.baseUrl });
    expect(first.directory).toBe(join(cache, 'datasets', 'mnist'));
    expect((await readdir(first.directory)).sort()).toEqual([...names].sort());
    expect(server.requests).toHaveLength(4);

    const second = await loadDataset('mnist', { baseUrl: server.baseUrl });
    expect(server.requests).toHaveLength(4);
    expect(second.checksum).toBe(first.checksum);
  });

  it('rejects a served file that is not the published one, leaving the cache without it', async () => {
    server = await serveFiles({ '/files/train-images-idx3-ubyte.gz': Buffer.from('not mnist') });
    const cache = await temporaryDirectory();
    vi.stubEnv('MNIST_DIR', '');
    vi.stubEnv('ADVX_CACHE_DIR', cache);
    await expect(loadDataset('mnist', { baseUrl: server.baseUrl })).rejects.toThrow(
      /train-images-idx3-ubyte\.gz: sha256 mismatch: expected 440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609, got [0-9a-f]{64}: to run offline, set MNIST_DIR or --data-dir /,
    );
    const directory = join(cache, 'datasets', 'mnist');
    expect(existsSync(directory) ? await readdir(directory) : []).toEqual([]);
  });

  it('offline, the one-line error says where to point the loader and where the cache is', async () => {
    // A server that is gone stands in for no network: the fetch itself fails.
    server = await serveFiles({});
    const baseUrl = server.baseUrl;
    await server.close();
    server = undefined;
    const cache = await temporaryDirectory();
    vi.stubEnv('MNIST_DIR', '');
    vi.stubEnv('ADVX_CACHE_DIR', cache);
    const error = (await loadDataset('mnist', { baseUrl }).catch((e: unknown) => e)) as DataError;
    expect(error).toBeInstanceOf(DataError);
    const names = 'train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz';
    expect(error.message).toBe(
      `${baseUrl}train-images-idx3-ubyte.gz: download failed (ECONNREFUSED): to run offline, set MNIST_DIR or --data-dir to a folder with the four mnist IDX files (${names}; gzipped or not), or put them in the cache, ${join(cache, 'datasets', 'mnist')}`,
    );
    expect(error.message).not.toContain('\n');
  });

  it('the offline hint names each dataset\'s own variable, and --data-dir only where the CLI takes it', () => {
    expect(offlineHint(DATASETS['fashion-mnist'], '/c/f')).toMatch(/^to run offline, set FASHION_MNIST_DIR or --data-dir to a folder with the four fashion-mnist IDX files .*, or put them in the cache, \/c\/f$/);
    // The sweep reads CIFAR-10 only from $CIFAR10_DIR or the cache.
    const cifar = offlineHint(DATASETS.cifar10, '/c/c');
    expect(cifar).toBe('to run offline, set CIFAR10_DIR to a folder with cifar-10-batches-bin/ (data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin, test_batch.bin), or put that folder in the cache, /c/c');
  });

  it('never downloads when the named directory lacks files', async () => {
    server = await serveFiles({});
    const cache = await temporaryDirectory();
    const empty = await temporaryDirectory();
    vi.stubEnv('ADVX_CACHE_DIR', cache);
    await expect(loadDataset('mnist', { dataDir: empty, baseUrl: server.baseUrl })).rejects.toThrow(
      `${empty} (from data directory option): missing mnist file(s) train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz`,
    );
    vi.stubEnv('MNIST_DIR', empty);
    await expect(loadDataset('mnist', { baseUrl: server.baseUrl })).rejects.toThrow(`${empty} (from $MNIST_DIR): missing mnist file(s)`);
    expect(server.requests).toEqual([]);
  });
});
