#!/usr/bin/env node
// Sets up the native TensorFlow backend (@tensorflow/tfjs-node) for advx.
//
// Runs as the root package's postinstall. It never fails the install: every path exits 0, and when
// the project is left on wasm it prints exactly one line saying so and why. See tools/native/README.md.
//
// Routes, first that works wins (for each variant: cpu always, gpu when a GPU is found or ADVX_GPU=1):
//   (a) ADVX_LIBTENSORFLOW=/dir   build the binding against an existing libtensorflow (dir/lib, dir/include)
//   (b) user cache hit           link a finished build from $ADVX_CACHE_DIR/native/<key> (seconds)
//   (c) tfjs-node's own install  only when its download host answers within a short timeout
//   (d) pip wheel                pip download tensorflow-cpu==2.21.0, extract the C library + headers,
//                                strip, build the binding with node-gyp, store it in the cache
// Every build (a, c, d) compiles tfjs-node's binding from source with one patch: the process-wide
// attribute-name set gets a mutex, so several worker_threads can run the binding concurrently.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const T0 = Date.now();
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TF_VERSION = '2.21.0';
/** Bump when the build recipe or the binding patch changes: old cache entries are then ignored. */
const RECIPE = 'r1';
const VARIANTS = {
  cpu: { pkg: '@tensorflow/tfjs-node', wheel: `tensorflow-cpu==${TF_VERSION}`, approx: '≈275 MB', wheelFile: /^tensorflow_cpu-2\.21\.0-.*manylinux.*_x86_64\.whl$/ },
  gpu: { pkg: '@tensorflow/tfjs-node-gpu', wheel: `tensorflow==${TF_VERSION}`, approx: 'several hundred MB', wheelFile: /^tensorflow-2\.21\.0-.*manylinux.*_x86_64\.whl$/ },
};
const WHEEL_MEMBERS = [
  'tensorflow/libtensorflow_cc.so.2',
  'tensorflow/libtensorflow_framework.so.2',
  'tensorflow/include/tensorflow/c/',
  'tensorflow/include/tensorflow/core/platform/',
  'tensorflow/include/tsl/',
  'tensorflow/include/xla/tsl/',
];

const env = process.env;
const CACHE_ROOT = path.resolve(env.ADVX_CACHE_DIR || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'advx'));
const NATIVE_DIR = path.join(CACHE_ROOT, 'native');
const WHEEL_DIR = path.join(CACHE_ROOT, 'wheels');
const LOG_DIR = path.join(NATIVE_DIR, 'logs');
let logFile = null;

const say = (msg) => console.log(`[advx native] ${msg}`);
const secs = (t0) => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
const mb = (bytes) => `${(bytes / 1e6).toFixed(0)} MB`;
class Skip extends Error {}

function appendLog(text) {
  if (!logFile) return;
  try {
    fs.appendFileSync(logFile, text);
  } catch {}
}

/** Runs a command, its output going to the log file; rejects with the tail of the output on failure. */
function run(cmd, args, { cwd = ROOT, extraEnv = {}, timeoutMs = 20 * 60_000, label } = {}) {
  appendLog(`\n$ (cd ${cwd} && ${cmd} ${args.join(' ')})\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const onData = (d) => {
      appendLog(d);
      tail = (tail + d).slice(-2000);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(tail);
      else {
        const last = tail.trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';
        reject(new Error(`${label ?? `${path.basename(cmd)} ${args[0] ?? ''}`} failed (${signal ?? `exit ${code}`}): ${last}`));
      }
    });
  });
}

function commandWorks(cmd, args) {
  try {
    return spawnSync(cmd, args, { stdio: 'ignore', timeout: 15_000 }).status === 0;
  } catch {
    return false;
  }
}

function duBytes(p) {
  let total = 0;
  const seen = new Set();
  const walk = (q) => {
    const st = fs.lstatSync(q);
    if (st.isDirectory()) for (const e of fs.readdirSync(q)) walk(path.join(q, e));
    else if (st.isFile() && !seen.has(st.ino)) {
      seen.add(st.ino);
      total += st.size;
    }
  };
  if (fs.existsSync(p)) walk(p);
  return total;
}

function sha256File(file) {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    fs.createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

function rm(p) {
  fs.rmSync(p, { recursive: true, force: true });
}

/** Facts about the installed tfjs-node(-gpu) package that name and place its binding. */
function packageInfo(variant) {
  const req = createRequire(path.join(ROOT, 'package.json'));
  let pj;
  try {
    pj = req.resolve(`${variant.pkg}/package.json`);
  } catch {
    throw new Skip(`${variant.pkg} is not installed`);
  }
  const dir = path.dirname(pj);
  const json = JSON.parse(fs.readFileSync(pj, 'utf8'));
  const napi = Math.max(...json.binary.napi_versions.filter((v) => v <= Number(process.versions.napi)));
  const bindingRel = json.binary.module_path.replace('{napi_build_version}', String(napi)).replace(/^\.\//, '');
  return { dir, version: json.version, napi, bindingRel: path.join(bindingRel, `${json.binary.module_name}.node`), moduleDirRel: bindingRel };
}

/** Cache key suffix shared by every entry usable by this Node/platform/package combination. */
function keyTail(variant, info) {
  return `abi${process.versions.modules}-napi${info.napi}-${process.platform}-${process.arch}-${variant.pkg.split('/')[1]}${info.version}-${RECIPE}`;
}

/** Does a child Node load the package and run a matMul on the "tensorflow" backend? */
function verify(variant) {
  const script = `
    process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
    require(${JSON.stringify(variant.pkg)});
    const tf = require('@tensorflow/tfjs-core');
    if (tf.getBackend() !== 'tensorflow') { console.error('backend is ' + tf.getBackend() + ', not tensorflow (two tfjs-core copies?)'); process.exit(3); }
    const r = tf.matMul(tf.ones([2, 2]), tf.ones([2, 2])).dataSync();
    if (r[0] !== 2) { console.error('wrong matMul result'); process.exit(4); }
    console.log('backend tensorflow, libtensorflow ' + tf.backend().binding?.TF_Version);`;
  const r = spawnSync(process.execPath, ['-e', script], {
    cwd: ROOT,
    env: { ...env, TF_CPP_MIN_LOG_LEVEL: env.TF_CPP_MIN_LOG_LEVEL ?? '2' },
    encoding: 'utf8',
    timeout: 180_000,
  });
  appendLog(`\n[verify ${variant.pkg}] status ${r.status}\n${r.stdout}${r.stderr}\n`);
  if (r.status === 0) return { ok: true, detail: r.stdout.trim().split('\n').pop() };
  const why = (r.stderr || r.stdout || String(r.error ?? '')).trim().split('\n').filter(Boolean);
  return { ok: false, detail: why.find((l) => /Error|error:/.test(l)) ?? why.pop() ?? `exit ${r.status}` };
}

/** Puts a cache entry's deps/ and lib/ into the package: hardlinks, else symlinks, else copies. */
function linkIn(entry, info) {
  const wanted = env.ADVX_NATIVE_LINK || 'hardlink';
  for (const sub of ['deps', 'lib']) rm(path.join(info.dir, sub));
  const mirror = (from, to, mode) => {
    fs.mkdirSync(to, { recursive: true });
    for (const e of fs.readdirSync(from, { withFileTypes: true })) {
      const a = path.join(from, e.name);
      const b = path.join(to, e.name);
      if (e.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(a), b);
      else if (e.isDirectory()) mirror(a, b, mode);
      else if (mode === 'hardlink') fs.linkSync(a, b);
      else fs.copyFileSync(a, b);
    }
  };
  let mode = wanted;
  if (mode === 'hardlink' || mode === 'copy') {
    try {
      for (const sub of ['deps', 'lib']) mirror(path.join(entry, sub), path.join(info.dir, sub), mode);
    } catch (e) {
      if (mode === 'copy') throw e;
      appendLog(`hardlink failed (${e.code ?? e.message}); using symlinks\n`);
      mode = 'symlink';
      for (const sub of ['deps', 'lib']) rm(path.join(info.dir, sub));
    }
  }
  if (mode === 'symlink') {
    for (const sub of ['deps', 'lib']) fs.symlinkSync(path.join(entry, sub), path.join(info.dir, sub), 'dir');
  }
  fs.writeFileSync(path.join(info.dir, '.advx-native.json'), JSON.stringify({ entry, mode, at: new Date().toISOString() }, null, 2));
  return mode;
}

function findCached(variant, info, exactKey) {
  if (!fs.existsSync(NATIVE_DIR)) return null;
  const tail = keyTail(variant, info);
  const names = fs.readdirSync(NATIVE_DIR).filter((n) => (exactKey ? n === exactKey : n.startsWith(`${variant.name}-`) && n.endsWith(tail)));
  for (const n of names.sort()) {
    const entry = path.join(NATIVE_DIR, n);
    if (fs.existsSync(path.join(entry, 'manifest.json')) && fs.existsSync(path.join(entry, info.bindingRel))) return entry;
  }
  return null;
}

/** Lays out lib symlinks so that `-ltensorflow -ltensorflow_framework` and tfjs-node's own checks resolve. */
function addLibLinks(libDir) {
  const has = (n) => fs.existsSync(path.join(libDir, n));
  const link = (name, target) => {
    if (!has(name) && has(target)) fs.symlinkSync(target, path.join(libDir, name));
  };
  const main = ['libtensorflow.so.2', 'libtensorflow_cc.so.2', 'libtensorflow.so'].find(has);
  const fw = ['libtensorflow_framework.so.2', 'libtensorflow_framework.so'].find(has);
  if (!main || !fw) throw new Error(`${libDir} lacks libtensorflow(_cc).so.2 or libtensorflow_framework.so.2`);
  link('libtensorflow.so', main);
  link('libtensorflow_framework.so', fw);
  link('libtensorflow.so.2.9.1', 'libtensorflow.so');
  link('libtensorflow_framework.so.2.9.1', 'libtensorflow_framework.so');
}

/** Node's own headers, so node-gyp need not download them. */
function nodeDir() {
  if (env.npm_config_nodedir) return env.npm_config_nodedir;
  for (const d of [path.resolve(path.dirname(process.execPath), '..'), '/usr', '/usr/local']) {
    if (fs.existsSync(path.join(d, 'include', 'node', 'node_api.h'))) return d;
  }
  return undefined;
}

function nodeGypBin() {
  if (env.npm_config_node_gyp && fs.existsSync(env.npm_config_node_gyp)) return env.npm_config_node_gyp;
  const npmDir = path.resolve(path.dirname(process.execPath), '../lib/node_modules/npm');
  const p = path.join(npmDir, 'node_modules/node-gyp/bin/node-gyp.js');
  return fs.existsSync(p) ? p : undefined;
}

/** Makes concurrent worker_threads safe: guards the binding's one process-wide mutable container. */
function patchBinding(src) {
  const file = path.join(src, 'binding', 'tfjs_backend.cc');
  let code = fs.readFileSync(file, 'utf8');
  const from = 'ATTR_NAME_SET.insert(attr_name_string.c_str()).first->c_str();';
  if (!code.includes(from)) return false;
  code = code
    .replace('static std::set<std::string> ATTR_NAME_SET;', 'static std::set<std::string> ATTR_NAME_SET;\nstatic std::mutex ATTR_NAME_SET_MUTEX;  // advx: worker_threads share this set')
    .replace(from, '[&] { std::lock_guard<std::mutex> lock(ATTR_NAME_SET_MUTEX); return ATTR_NAME_SET.insert(attr_name_string).first->c_str(); }();');
  fs.writeFileSync(file, `#include <mutex>\n${code}`);
  return true;
}

/**
 * Builds the binding in a staging copy of the package whose deps/ (lib + include) is `depsDir`,
 * then moves deps/lib and the binding into the cache entry `key`. Returns the entry path.
 */
async function buildEntry(variant, info, depsDir, key, manifest) {
  const staging = path.join(NATIVE_DIR, `.staging-${key}-${process.pid}`);
  try {
    return await buildIn(staging, variant, info, depsDir, key, manifest);
  } finally {
    rm(staging);
    rm(depsDir);
  }
}

async function buildIn(staging, variant, info, depsDir, key, manifest) {
  const src = path.join(staging, 'pkg');
  rm(src);
  fs.mkdirSync(src, { recursive: true });
  for (const f of ['package.json', 'binding.gyp']) fs.copyFileSync(path.join(info.dir, f), path.join(src, f));
  fs.cpSync(path.join(info.dir, 'binding'), path.join(src, 'binding'), { recursive: true });
  if (path.resolve(depsDir) !== path.join(src, 'deps')) fs.renameSync(depsDir, path.join(src, 'deps'));
  addLibLinks(path.join(src, 'deps', 'lib'));
  const patched = patchBinding(src);
  if (!patched) say('warning: binding source not recognised, built without the worker_threads mutex patch');

  const preGyp = createRequire(path.join(info.dir, 'package.json')).resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp');
  const nodedir = nodeDir();
  const gyp = nodeGypBin();
  say(`compiling the tfjs-node binding (node-gyp, ~30 s)…`);
  const t = Date.now();
  await run(process.execPath, [preGyp, 'install', '--build-from-source'], {
    label: 'node-pre-gyp build',
    cwd: src,
    extraEnv: {
      JOBS: 'max',
      ...(nodedir ? { npm_config_nodedir: nodedir } : {}),
      ...(gyp ? { npm_config_node_gyp: gyp } : {}),
    },
  });
  say(`binding compiled in ${secs(t)}`);
  if (!fs.existsSync(path.join(src, info.bindingRel))) throw new Error(`build produced no ${info.bindingRel}`);

  const entry = path.join(NATIVE_DIR, key);
  const tmpEntry = path.join(staging, 'entry');
  fs.mkdirSync(path.join(tmpEntry, 'deps'), { recursive: true });
  fs.renameSync(path.join(src, 'deps', 'lib'), path.join(tmpEntry, 'deps', 'lib'));
  fs.mkdirSync(path.join(tmpEntry, info.moduleDirRel), { recursive: true });
  fs.renameSync(path.join(src, info.bindingRel), path.join(tmpEntry, info.bindingRel));
  fs.writeFileSync(
    path.join(tmpEntry, 'manifest.json'),
    JSON.stringify({ ...manifest, key, patchedForWorkers: patched, node: process.version, builtAt: new Date().toISOString() }, null, 2),
  );
  // Entries appear by one atomic rename, so an existing one was finished by a concurrent install.
  if (!fs.existsSync(entry)) fs.renameSync(tmpEntry, entry);
  return entry;
}

// ---- route (a): an existing libtensorflow ------------------------------------------------------
async function routeCustom(variant, info) {
  const dir = path.resolve(env.ADVX_LIBTENSORFLOW);
  if (!fs.existsSync(path.join(dir, 'lib')) || !fs.existsSync(path.join(dir, 'include', 'tensorflow', 'c', 'c_api.h'))) {
    throw new Skip(`ADVX_LIBTENSORFLOW=${dir} needs lib/ and include/tensorflow/c/c_api.h`);
  }
  const libs = fs.readdirSync(path.join(dir, 'lib')).filter((n) => n.startsWith('libtensorflow'));
  const st = libs.map((n) => fs.statSync(path.join(dir, 'lib', n))).map((s) => `${s.size}:${s.mtimeMs}`);
  const id = createHash('sha256').update(`${dir}\n${libs.join(',')}\n${st.join(',')}`).digest('hex').slice(0, 12);
  const key = `${variant.name}-custom-${id}-${keyTail(variant, info)}`;
  const hit = findCached(variant, info, key);
  if (hit) return { entry: hit, how: `cached build for ADVX_LIBTENSORFLOW=${dir}` };
  say(`building against ADVX_LIBTENSORFLOW=${dir}`);
  const deps = path.join(NATIVE_DIR, `.deps-${key}-${process.pid}`);
  rm(deps);
  fs.mkdirSync(path.join(deps, 'lib'), { recursive: true });
  fs.symlinkSync(path.join(dir, 'include'), path.join(deps, 'include'));
  for (const n of libs) fs.symlinkSync(path.join(dir, 'lib', n), path.join(deps, 'lib', n));
  const entry = await buildEntry(variant, info, deps, key, { source: `ADVX_LIBTENSORFLOW=${dir}` });
  return { entry, how: `built against ADVX_LIBTENSORFLOW=${dir}` };
}

// ---- route (c): tfjs-node's own install script -------------------------------------------------
function reachable(url, timeoutMs) {
  return new Promise((resolve) => {
    const req = https.request(url, { method: 'HEAD', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode >= 200 && res.statusCode < 400);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function routeUpstream(variant, info) {
  if (process.platform !== 'linux' && process.platform !== 'darwin') return null;
  const host = env.TFJS_NODE_CDN_STORAGE || 'https://storage.googleapis.com/';
  const arch = { x64: 'x86_64', arm64: 'arm64' }[process.arch];
  const url = `${host}tensorflow/libtensorflow/libtensorflow-${variant.name}-${process.platform}-${arch}-2.9.1.tar.gz`;
  const t = Date.now();
  const ok = await reachable(url, Number(env.ADVX_NATIVE_PROBE_MS || 3000));
  say(`tfjs-node download host ${ok ? 'reachable' : 'not reachable'} (${secs(t)})`);
  if (!ok) return null;
  const key = `${variant.name}-libtf2.9.1-${keyTail(variant, info)}`;
  say(`downloading libtensorflow 2.9.1 with tfjs-node's own install script…`);
  for (const sub of ['deps', 'lib']) rm(path.join(info.dir, sub));
  await run(process.execPath, ['scripts/install.js', variant.name, 'download'], {
    cwd: info.dir,
    timeoutMs: 15 * 60_000,
    label: 'tfjs-node install.js',
    extraEnv: nodeDir() ? { npm_config_nodedir: nodeDir() } : {},
  });
  const deps = path.join(NATIVE_DIR, `.deps-${key}-${process.pid}`);
  rm(deps);
  fs.mkdirSync(NATIVE_DIR, { recursive: true });
  fs.cpSync(path.join(info.dir, 'deps'), deps, { recursive: true, verbatimSymlinks: true });
  for (const sub of ['deps', 'lib']) rm(path.join(info.dir, sub));
  const entry = await buildEntry(variant, info, deps, key, { source: 'libtensorflow 2.9.1 via tfjs-node install script' });
  return { entry, how: 'libtensorflow 2.9.1 from the tfjs-node host, binding built here' };
}

// ---- route (d): the TensorFlow pip wheel ------------------------------------------------------
function python() {
  for (const py of [env.ADVX_PYTHON, 'python3', 'python'].filter(Boolean)) {
    if (commandWorks(py, ['-m', 'pip', '--version'])) return py;
  }
  throw new Skip('no python3 with pip to fetch the TensorFlow wheel');
}

function findWheel(variant) {
  if (!fs.existsSync(WHEEL_DIR)) return null;
  const n = fs.readdirSync(WHEEL_DIR).find((f) => variant.wheelFile.test(f));
  return n ? path.join(WHEEL_DIR, n) : null;
}

async function routeWheel(variant, info) {
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Skip(`no TensorFlow wheel route for ${process.platform}-${process.arch}`);
  const py = python();
  let wheel = findWheel(variant);
  if (!wheel) {
    fs.mkdirSync(WHEEL_DIR, { recursive: true });
    say(`downloading ${variant.wheel} with pip (${variant.approx})…`);
    const t = Date.now();
    const base = ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--disable-pip-version-check', '-d', WHEEL_DIR];
    try {
      await run(py, [...base, variant.wheel], { label: 'pip download' });
    } catch (first) {
      // A python that TensorFlow has no wheel for: ask for the cp311 manylinux wheel explicitly.
      appendLog(`retrying with explicit cp311 tags after: ${first.message}\n`);
      await run(py, [...base, '--python-version', '3.11', '--implementation', 'cp', '--abi', 'cp311', '--platform', 'manylinux_2_27_x86_64', '--platform', 'manylinux2014_x86_64', variant.wheel], { label: 'pip download' });
    }
    wheel = findWheel(variant);
    if (!wheel) throw new Error(`pip reported success but no ${variant.wheel} wheel is in ${WHEEL_DIR}`);
    say(`downloaded ${path.basename(wheel)} (${mb(fs.statSync(wheel).size)}) in ${secs(t)}`);
  } else {
    say(`using cached wheel ${wheel}`);
  }
  const sha = await sha256File(wheel);
  const key = `${variant.name}-tf${TF_VERSION}-w${sha.slice(0, 16)}-${keyTail(variant, info)}`;
  const hit = findCached(variant, info, key);
  if (hit) return { entry: hit, how: `cached build ${path.basename(hit)}` };

  const deps = path.join(NATIVE_DIR, `.deps-${key}-${process.pid}`);
  rm(deps);
  fs.mkdirSync(deps, { recursive: true });
  say('extracting libtensorflow_cc, libtensorflow_framework and the C API headers from the wheel…');
  let t = Date.now();
  const extract = `
import os, shutil, sys, zipfile
wheel, out, prefixes = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    for m in z.infolist():
        n = m.filename
        if n.endswith('/') or not any(n == p or (p.endswith('/') and n.startswith(p)) for p in prefixes): continue
        rel = n[len('tensorflow/include/'):] if n.startswith('tensorflow/include/') else n[len('tensorflow/'):]
        dest = os.path.join(out, 'include' if n.startswith('tensorflow/include/') else 'lib', rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(m) as src, open(dest, 'wb') as dst: shutil.copyfileobj(src, dst, 1 << 20)
`;
  await run(py, ['-c', extract, wheel, deps, ...WHEEL_MEMBERS], { label: 'wheel extraction' });
  say(`extracted in ${secs(t)}`);
  if (commandWorks('strip', ['--version'])) {
    t = Date.now();
    const libs = ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'].map((n) => path.join(deps, 'lib', n));
    const before = libs.reduce((s, f) => s + fs.statSync(f).size, 0);
    await run('strip', ['--strip-unneeded', ...libs], { label: 'strip' });
    const after = libs.reduce((s, f) => s + fs.statSync(f).size, 0);
    say(`stripped libraries ${mb(before)} → ${mb(after)} in ${secs(t)}`);
  }
  const entry = await buildEntry(variant, info, deps, key, { source: `${variant.wheel} wheel`, wheel: path.basename(wheel), wheelSha256: sha });
  return { entry, how: `built from ${path.basename(wheel)}` };
}

// ---- one variant --------------------------------------------------------------------------------
async function setupVariant(variant) {
  const info = packageInfo(variant);
  const marker = path.join(info.dir, '.advx-native.json');
  if (fs.existsSync(marker) && fs.existsSync(path.join(info.dir, info.bindingRel))) {
    const v = verify(variant);
    if (v.ok) return { how: 'already set up', detail: v.detail, entry: JSON.parse(fs.readFileSync(marker, 'utf8')).entry };
  }
  const routes = [];
  if (env.ADVX_LIBTENSORFLOW) routes.push(['ADVX_LIBTENSORFLOW', () => routeCustom(variant, info)]);
  else {
    routes.push(['cache', async () => {
      const hit = findCached(variant, info);
      return hit ? { entry: hit, how: `cached build ${path.basename(hit)}` } : null;
    }]);
    routes.push(['tfjs-node download', () => routeUpstream(variant, info)]);
    routes.push(['pip wheel', () => routeWheel(variant, info)]);
  }
  const reasons = [];
  for (const [name, route] of routes) {
    let got;
    try {
      got = await route();
    } catch (e) {
      reasons.push(`${name}: ${e.message}`);
      appendLog(`[${name}] ${e.stack}\n`);
      if (e instanceof Skip) continue;
      continue;
    }
    if (!got) continue;
    const mode = linkIn(got.entry, info);
    const v = verify(variant);
    if (v.ok) return { ...got, mode, detail: v.detail };
    reasons.push(`${name}: built/linked but does not load: ${v.detail}`);
    for (const sub of ['deps', 'lib', '.advx-native.json']) rm(path.join(info.dir, sub));
    if (name === 'cache') rm(got.entry); // a broken cache entry would be found again next time
  }
  throw new Error(reasons.join('; ') || 'no route applied');
}

function gpuWanted() {
  if (env.ADVX_GPU === '1') return 'ADVX_GPU=1';
  if (env.ADVX_GPU === '0') return null;
  return commandWorks('nvidia-smi', ['-L']) ? 'nvidia-smi found a GPU' : null;
}

async function main() {
  if (env.ADVX_SKIP_NATIVE === '1') {
    say('ADVX_SKIP_NATIVE=1: native TensorFlow not set up; the project will use the wasm backend.');
    return;
  }
  fs.mkdirSync(LOG_DIR, { recursive: true });
  logFile = path.join(LOG_DIR, `setup-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.log`);
  say(`setting up the native TensorFlow backend (cache ${CACHE_ROOT}; log ${logFile})`);
  const wanted = [{ name: 'cpu', ...VARIANTS.cpu }];
  const gpuWhy = gpuWanted();
  if (gpuWhy) wanted.push({ name: 'gpu', ...VARIANTS.gpu });
  for (const variant of wanted) {
    const t = Date.now();
    try {
      const r = await setupVariant(variant);
      const size = r.entry ? ` — cache entry ${mb(duBytes(r.entry))}` : '';
      say(`${variant.pkg} ready (${r.how}${r.mode ? `, ${r.mode}ed into node_modules` : ''}) in ${secs(t)}: ${r.detail}${size}`);
    } catch (e) {
      const msg = e.message.split('\n')[0];
      if (variant.name === 'cpu') say(`native TensorFlow NOT set up, the project will use the wasm backend — ${msg} (log: ${logFile})`);
      else say(`GPU binding (${gpuWhy}) NOT set up, CPU TensorFlow is unaffected — ${msg} (log: ${logFile})`);
    }
  }
  say(`done in ${secs(T0)}; user cache ${CACHE_ROOT}: ${mb(duBytes(NATIVE_DIR))} builds + ${mb(duBytes(WHEEL_DIR))} wheels`);
}

process.on('uncaughtException', (e) => {
  say(`native TensorFlow NOT set up, the project will use the wasm backend — unexpected error: ${e.message}`);
  process.exit(0);
});
main()
  .catch((e) => say(`native TensorFlow NOT set up, the project will use the wasm backend — unexpected error: ${e.message}`))
  .finally(() => {
    process.exitCode = 0;
  });
