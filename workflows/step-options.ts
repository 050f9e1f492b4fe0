import type { ActivityOptions, Duration } from '@temporalio/common';
/**
 * The task's and tables' own steps (not the chunks'): retried while the cause may pass, and, with
 * `[temporal] give-up-after`, no longer than that in all.
 */
export function taskStepOptions(giveUpAfter: string | undefined): ActivityOptions {
  return {
    startToCloseTimeout: '1 day',
    heartbeatTimeout: '1 minute',
    retry: { maximumInterval: '30 seconds' },
    ...(giveUpAfter ? { scheduleToCloseTimeout: giveUpAfter as Duration } : {}),
  };
}
