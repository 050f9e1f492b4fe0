/**
 * How `tempest` ends, for scripts that run it (README, "Exit codes"). Every code but `internal`
 * comes with one message that says what is wrong and what to run.
 */
export const exitCodes = {
  /** A configuration error, a precheck that failed (nothing was started), or no task for this configuration. */
  usage: 2,
  /** Temporal, the target or a worker does not answer: start it (the message says which), then run the same command again. */
  unavailable: 4,
  /** A defect in Tempest: the message carries its stack trace, for a bug report. */
  internal: 70,
  /** Interrupted by Ctrl-C (SIGINT) or SIGTERM: 128 plus the signal's number, as shells report it. */
  interrupted: { SIGINT: 130, SIGTERM: 143 },
} as const;
