import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '../src/report/model.js';
import { root } from './helpers.js';

/** What the BullMQ tests share: a real redis-server (the Debian package; .ci/run installs it), the built worker, processes. */
export const REDIS_SERVER = '/usr/bin/redis-server';
export const workerScript = `${root}/dist/apps/coordinator/bullmq-worker.mjs`;
export const haveRedis = existsSync(REDIS_SERVER);

export const scratch = () => mkdtempSync(join(tmpdir(), 'advx-bullmq-'));
export const readReport = (out: string) => JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Started {
  child: ChildProcess;
  output: () => string;
}

/** Spawns and resolves once `ready` appears in its output (rejects if it exits first or takes too long). */
export function start(command: string, args: string[], ready: RegExp, env: Record<string, string> = {}): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${command} not ready after 60 s:\n${output}`)), 60_000);
    const onData = (d: Buffer) => {
      output += d;
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve({ child, output: () => output });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  });
}

export function stop(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child?.exitCode ?? null);
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', (code) => {
      clearTimeout(kill);
      resolve(code);
    });
    child.kill(signal);
  });
}

/** A redis-server without persistence on a loopback port: restarted, it comes back empty. */
export const startRedis = (port: number) => start(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], /Ready to accept connections/);

/** Resolves once `pattern` appears in what `text()` returns (polled), rejects after `ms`. */
export function waitFor(text: () => string, pattern: RegExp, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = setInterval(() => {
      if (pattern.test(text())) {
        clearInterval(check);
        resolve();
      } else if (Date.now() - started > ms) {
        clearInterval(check);
        reject(new Error(`${pattern} did not appear within ${ms / 1000} s:\n${text()}`));
      }
    }, 20);
  });
}
