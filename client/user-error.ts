/**
 * A mistake the user can fix (bad config, bad flag, a task in a state that needs a command):
 * printed as one plain message and exit code, never as a stack trace.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'UserError';
  }
}
