import cliProgress from 'cli-progress';
import { describeStatus } from '../../workflows/checkpoint-status';
import type { ProgressSnapshot } from './snapshot';

/** Speed over the last half minute of samples, so a resumed client shows a true rate quickly. */
class RateWindow {
  private samples: Array<{ at: number; bytes: number; rows: number }> = [];

  add(bytes: number, rows: number): { bytesPerSecond: number; rowsPerSecond: number } {
    const now = Date.now();
    this.samples.push({ at: now, bytes, rows });
    while (this.samples.length > 2 && now - this.samples[0].at > 30_000) this.samples.shift();
    const first = this.samples[0];
    const seconds = (now - first.at) / 1000;
    if (seconds <= 0) return { bytesPerSecond: 0, rowsPerSecond: 0 };
    return { bytesPerSecond: (bytes - first.bytes) / seconds, rowsPerSecond: (rows - first.rows) / seconds };
  }
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`;
}

export interface ProgressDisplay {
  update(snapshot: ProgressSnapshot): void;
  stop(): void;
}

/** Bars on a terminal: the total, then one per running table. */
export function terminalDisplay(): ProgressDisplay {
  const bars = new cliProgress.MultiBar(
    { format: '{name} |{bar}| {percentage}% {done}/{total} {rows} rows {speed} ETA {eta}', hideCursor: true, clearOnComplete: false, barsize: 30 },
    cliProgress.Presets.shades_classic,
  );
  const total = bars.create(1, 0, {});
  const perTable = new Map<string, cliProgress.SingleBar>();
  const rate = new RateWindow();
  const reported = new Set<string>();
  return {
    update(snapshot) {
      const { bytesPerSecond, rowsPerSecond } = rate.add(snapshot.doneBytes, snapshot.rows);
      total.setTotal(Math.max(1, snapshot.totalBytes));
      total.update(snapshot.doneBytes, {
        name: `total (${snapshot.state.phase})`.padEnd(28),
        done: formatBytes(snapshot.doneBytes),
        total: formatBytes(snapshot.totalBytes),
        rows: snapshot.rows,
        speed: `${formatBytes(bytesPerSecond)}/s ${Math.round(rowsPerSecond)} rows/s`,
        eta: formatDuration((snapshot.totalBytes - snapshot.doneBytes) / bytesPerSecond),
      });
      for (const table of snapshot.tables) {
        let bar = perTable.get(table.key);
        if (!table.running && !bar) {
          if ((table.error || table.status !== 30) && !reported.has(table.key)) {
            reported.add(table.key);
            bars.log(`${table.key}: ${table.error ?? describeStatus(table.status)}\n`);
          }
          continue;
        }
        if (!bar) {
          bar = bars.create(Math.max(1, table.totalBytes), 0, {});
          perTable.set(table.key, bar);
        }
        bar.update(table.doneBytes, {
          name: table.key.slice(0, 28).padEnd(28),
          done: formatBytes(table.doneBytes),
          total: formatBytes(table.totalBytes),
          rows: table.rows,
          speed: table.retrying ? `retrying: ${table.retrying.slice(0, 60)}` : '',
          eta: '',
        });
        if (!table.running) {
          bars.remove(bar);
          perTable.delete(table.key);
          reported.add(table.key);
          bars.log(`${table.key}: ${table.error ?? describeStatus(table.status)}, ${table.rows} rows\n`);
        }
      }
    },
    stop: () => bars.stop(),
  };
}

/** Lines for logs and pipes: a summary every `intervalMs`, and each table as it ends. */
export function lineDisplay(intervalMs: number, write: (line: string) => void): ProgressDisplay {
  const rate = new RateWindow();
  const reported = new Set<string>();
  let lastLine = 0;
  let lastPhase = '';
  return {
    update(snapshot) {
      const { bytesPerSecond, rowsPerSecond } = rate.add(snapshot.doneBytes, snapshot.rows);
      for (const table of snapshot.tables) {
        if (table.running || reported.has(table.key) || (table.status === 30 && !table.error)) continue;
        reported.add(table.key);
        write(`${table.key}: ${table.error ?? describeStatus(table.status)}, ${table.rows} rows`);
      }
      const now = Date.now();
      if (now - lastLine < intervalMs && snapshot.state.phase === lastPhase) return;
      lastLine = now;
      lastPhase = snapshot.state.phase;
      const percent = snapshot.totalBytes > 0 ? ((100 * snapshot.doneBytes) / snapshot.totalBytes).toFixed(1) : '0.0';
      write(
        `progress: ${snapshot.state.phase}, ${percent}% ${formatBytes(snapshot.doneBytes)}/${formatBytes(snapshot.totalBytes)}, ${snapshot.rows} rows, ` +
          `${formatBytes(bytesPerSecond)}/s, ${Math.round(rowsPerSecond)} rows/s, ETA ${formatDuration((snapshot.totalBytes - snapshot.doneBytes) / bytesPerSecond)}`,
      );
    },
    stop: () => {},
  };
}
