import cliProgress from 'cli-progress';
import { describeStatus } from '../../workflows/checkpoint-status';
import type { ProgressSnapshot } from './snapshot';
import { formatBytes } from '../../workflows/format-bytes';

export { formatBytes };

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

/** The tables that ended since the last look, each once (a client that falls far behind skips some). */
function endedSince(): (snapshot: ProgressSnapshot) => string[] {
  let seen = 0;
  let run = 0;
  return (snapshot) => {
    // A new run of the task numbers its ends afresh.
    if (snapshot.state.runs !== run) {
      run = snapshot.state.runs;
      seen = 0;
    }
    const lines = snapshot.state.recent.filter((table) => table.seq > seen).map((table) => `${table.key}: ${describeStatus(table.status)}, ${table.rows} rows`);
    seen = snapshot.state.ended;
    return lines;
  };
}

function retryingOf(snapshot: ProgressSnapshot): string {
  if (snapshot.retrying) return `; ${snapshot.retrying}`;
  const retrying = snapshot.tables.find((table) => table.retrying);
  return retrying ? `; ${retrying.key}: ${retrying.retrying}` : '';
}

/** Bars on a terminal: the total, then one per table being written. */
export function terminalDisplay(): ProgressDisplay {
  const bars = new cliProgress.MultiBar(
    { format: '{name} |{bar}| {percentage}% {done}/{total} {rows} rows {speed} ETA {eta}', hideCursor: true, clearOnComplete: false, barsize: 30 },
    cliProgress.Presets.shades_classic,
  );
  const total = bars.create(1, 0, {});
  const perTable = new Map<string, { bar: cliProgress.SingleBar; rate: RateWindow }>();
  const rate = new RateWindow();
  const ended = endedSince();
  return {
    update(snapshot) {
      const { bytesPerSecond, rowsPerSecond } = rate.add(snapshot.doneBytes, snapshot.rows);
      total.setTotal(Math.max(1, snapshot.totalBytes));
      total.update(snapshot.doneBytes, {
        name: `total (${snapshot.state.phase}${snapshot.retrying ? `: ${snapshot.retrying}` : ''})`.padEnd(28),
        done: formatBytes(snapshot.doneBytes),
        total: formatBytes(snapshot.totalBytes),
        rows: snapshot.rows,
        speed: `${formatBytes(bytesPerSecond)}/s ${Math.round(rowsPerSecond)} rows/s`,
        eta: formatDuration((snapshot.totalBytes - snapshot.doneBytes) / bytesPerSecond),
      });
      for (const line of ended(snapshot)) bars.log(`${line}\n`);
      const current = new Set(snapshot.tables.map((table) => table.key));
      for (const [key, { bar }] of perTable) {
        if (current.has(key)) continue;
        bars.remove(bar);
        perTable.delete(key);
      }
      for (const table of snapshot.tables) {
        let line = perTable.get(table.key);
        if (!line) {
          line = { bar: bars.create(Math.max(1, table.totalBytes), 0, {}), rate: new RateWindow() };
          perTable.set(table.key, line);
        }
        const speed = line.rate.add(table.doneBytes, table.rows);
        line.bar.update(table.doneBytes, {
          name: table.key.slice(0, 28).padEnd(28),
          done: formatBytes(table.doneBytes),
          total: formatBytes(table.totalBytes),
          rows: table.rows,
          speed: table.retrying ? `retrying: ${table.retrying.slice(0, 80)}` : `${formatBytes(speed.bytesPerSecond)}/s ${Math.round(speed.rowsPerSecond)} rows/s`,
          eta: '',
        });
      }
    },
    stop: () => bars.stop(),
  };
}

/** Lines for logs and pipes: a summary every `intervalMs`, and each table as it ends. */
export function lineDisplay(intervalMs: number, write: (line: string) => void): ProgressDisplay {
  const rate = new RateWindow();
  const ended = endedSince();
  let lastLine = 0;
  let lastPhase = '';
  let lastRetrying = '';
  return {
    update(snapshot) {
      const { bytesPerSecond, rowsPerSecond } = rate.add(snapshot.doneBytes, snapshot.rows);
      for (const line of ended(snapshot)) write(line);
      const now = Date.now();
      const retrying = retryingOf(snapshot);
      if (now - lastLine < intervalMs && snapshot.state.phase === lastPhase && retrying === lastRetrying) return;
      lastLine = now;
      lastPhase = snapshot.state.phase;
      lastRetrying = retrying;
      const percent = snapshot.totalBytes > 0 ? ((100 * snapshot.doneBytes) / snapshot.totalBytes).toFixed(1) : '0.0';
      const { counts } = snapshot.state;
      write(
        `progress: ${snapshot.state.phase}, ${percent}% ${formatBytes(snapshot.doneBytes)}/${formatBytes(snapshot.totalBytes)}, ${snapshot.rows} rows, ` +
          `tables ${counts.finished}/${snapshot.state.plan?.tables ?? 0} done${counts.failed ? `, ${counts.failed} failed` : ''}, ` +
          `${formatBytes(bytesPerSecond)}/s, ${Math.round(rowsPerSecond)} rows/s, ETA ${formatDuration((snapshot.totalBytes - snapshot.doneBytes) / bytesPerSecond)}${retrying}`,
      );
    },
    stop: () => {},
  };
}
