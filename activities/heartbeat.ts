import { Context } from '@temporalio/activity';

export function heartbeat(details?: unknown): void {
  Context.current().heartbeat(details);
}

/** For one long statement, which cannot heartbeat by itself. */
export async function heartbeating<T>(work: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => heartbeat(), 5_000);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
