import type { Info } from '@temporalio/activity';
import { isTransient, nonRetryable } from './failures';

/** "30m", "2h", "45s" in milliseconds. */
export function durationMs(text: string): number {
  const match = /^(\d+)(s|m|h)$/.exec(text);
  if (!match) throw new Error(`not a duration: ${text}`);
  return Number(match[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 's' | 'm' | 'h'];
}

/**
 * `[temporal] give-up-after` for the activities that write rows: a chunk may run for hours while it
 * makes progress, so what counts is the time since its rows last moved, carried from attempt to
 * attempt in its heartbeats (`progressAtMs`). A passing error past that time stops the retries.
 */
export class ProgressClock {
  private progressAtMs: number;
  private rows = -1;

  constructor(private readonly giveUpAfter: string | undefined, info: Pick<Info, 'heartbeatDetails' | 'scheduledTimestampMs'>) {
    const carried = (info.heartbeatDetails as { progressAtMs?: number } | undefined)?.progressAtMs;
    this.progressAtMs = carried ?? info.scheduledTimestampMs;
  }

  /** Heartbeat details with the moment rows last moved. */
  stamp<T extends { rows: number }>(beat: T): T & { progressAtMs: number } {
    if (beat.rows !== this.rows) {
      this.rows = beat.rows;
      this.progressAtMs = Date.now();
    }
    return { ...beat, progressAtMs: this.progressAtMs };
  }

  /** The error to throw: itself, or, past give-up-after without progress, a final failure saying so. */
  verdict(error: unknown): unknown {
    if (!this.giveUpAfter || !isTransient(error) || Date.now() - this.progressAtMs < durationMs(this.giveUpAfter)) return error;
    return nonRetryable('TargetError', `no progress for ${this.giveUpAfter} ([temporal] give-up-after): ${(error as Error).message}`);
  }
}
