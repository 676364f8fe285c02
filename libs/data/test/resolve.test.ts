import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATASETS, cacheDirectory, resolveDataDirectory } from '@advx/data';
import { temporaryDirectory } from './helpers.js';

const mnist = DATASETS.mnist;
const fashion = DATASETS['fashion-mnist'];
const IDX_NAMES = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];

/** A directory holding (empty) files of the given names: resolution only looks for names. */
async function directoryWith(names: string[]): Promise<string> {
  const directory = await temporaryDirectory();
  for (const name of names) {
    await mkdir(join(directory, name, '..'), { recursive: true });
    await writeFile(join(directory, name), '');
  }
  return directory;
}

describe('cacheDirectory', () => {
  it('prefers $ADVX_CACHE_DIR, then $XDG_CACHE_HOME, then ~/.cache', () => {
    expect(cacheDirectory('mnist', { ADVX_CACHE_DIR: '/c', XDG_CACHE_HOME: '/x' }, '/home/u')).toBe('/c/datasets/mnist');
    expect(cacheDirectory('cifar10', { XDG_CACHE_HOME: '/x' }, '/home/u')).toBe('/x/advx/datasets/cifar10');
    expect(cacheDirectory('fashion-mnist', { XDG_CACHE_HOME: '' }, '/home/u')).toBe('/home/u/.cache/advx/datasets/fashion-mnist');
  });
});

describe('resolveDataDirectory', () => {
  it('takes the option over the environment, the environment over system and cache', async () => {
    const option = await directoryWith(IDX_NAMES);
    const fromEnv = await directoryWith(IDX_NAMES);
    const system = await directoryWith(IDX_NAMES);
    const env = { FASHION_MNIST_DIR: fromEnv, ADVX_CACHE_DIR: '/nowhere' };
    const systemDirectories = [system];
    expect(resolveDataDirectory(fashion, { dataDir: option, env, systemDirectories })).toMatchObject({ directory: option, source: 'option' });
    expect(resolveDataDirectory(fashion, { env, systemDirectories })).toMatchObject({ directory: fromEnv, source: 'env' });
    expect(resolveDataDirectory(fashion, { env: { ADVX_CACHE_DIR: '/nowhere' }, systemDirectories })).toMatchObject({
      directory: system,
      source: 'system',
      missing: [],
    });
  });

  it('skips an incomplete system directory and falls back to the cache, reporting what it lacks', async () => {
    const partial = await directoryWith(IDX_NAMES.slice(0, 2));
    const cache = await temporaryDirectory();
    const resolution = resolveDataDirectory(fashion, { env: { ADVX_CACHE_DIR: cache }, systemDirectories: [partial] });
    expect(resolution).toMatchObject({ directory: join(cache, 'datasets', 'fashion-mnist'), source: 'cache', missing: IDX_NAMES });
  });

  it('knows the Debian location of Fashion-MNIST', () => {
    expect(fashion.systemDirectories).toEqual(['/usr/share/datasets/fashion-mnist']);
  });

  it('rejects a named directory that lacks files, naming it and the missing files', async () => {
    const partial = await directoryWith(['train-images-idx3-ubyte', 't10k-labels-idx1-ubyte.gz']);
    expect(() => resolveDataDirectory(mnist, { env: { MNIST_DIR: partial } })).toThrow(
      `${partial} (from $MNIST_DIR): missing mnist file(s) train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz`,
    );
    expect(() => resolveDataDirectory(mnist, { dataDir: join(partial, 'nope'), env: {} })).toThrow(
      `${join(partial, 'nope')} (from data directory option): directory does not exist`,
    );
  });

  it('accepts gunzipped IDX names and the CIFAR batches subfolder', async () => {
    const raw = await directoryWith(IDX_NAMES.map((n) => n.replace(/\.gz$/, '')));
    const located = resolveDataDirectory(mnist, { dataDir: raw, env: {} });
    expect(located.paths.get('train-images-idx3-ubyte.gz')).toBe(join(raw, 'train-images-idx3-ubyte'));

    const cifar = DATASETS.cifar10;
    if (cifar.format !== 'cifar') throw new Error('cifar10 is not in CIFAR format');
    const names = [...cifar.trainFiles, ...cifar.testFiles];
    const nested = await directoryWith(names.map((n) => `cifar-10-batches-bin/${n}`));
    const flat = await directoryWith(names);
    expect(resolveDataDirectory(cifar, { dataDir: nested, env: {} }).paths.get('test_batch.bin')).toBe(
      join(nested, 'cifar-10-batches-bin', 'test_batch.bin'),
    );
    expect(resolveDataDirectory(cifar, { env: { CIFAR10_DIR: flat } }).paths.get('data_batch_1.bin')).toBe(join(flat, 'data_batch_1.bin'));
  });
});
