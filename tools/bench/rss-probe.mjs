// Preloaded into a sweep's coordinator by the bench (`node --import <this> main.mjs …`): when the
// main thread exits it writes the process's peak RSS (all threads, so the Piscina workers too) to
// $ADVX_BENCH_RSS_FILE. Worker threads inherit --import; only the main thread writes.
import { readFileSync, writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const file = process.env.ADVX_BENCH_RSS_FILE;
if (isMainThread && file) {
  process.on('exit', () => {
    const status = readFileSync('/proc/self/status', 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    writeFileSync(file, JSON.stringify({ maxRSSkB: process.resourceUsage().maxRSS, vmHWMkB: hwm ? Number(hwm[1]) : null }));
  });
}
