/** Error codes that mean the target never answered: the connection could not be made. */
const unreachableCodes = ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND'];
/** Error codes that mean an open connection was cut. */
const lostCodes = ['ECONNRESET', 'EPIPE', 'PROTOCOL_CONNECTION_LOST'];

/** Long enough for a driver's message with its table and file, short enough for one terminal line. */
const longestDetail = 160;

/**
 * The progress line of an activity Temporal is retrying: what is wrong, that it is being retried,
 * and the attempt, e.g. "target 127.0.0.1:4000 unreachable: ECONNREFUSED, retrying, attempt 6".
 */
export function retryingLine(activityType: string, attempt: number, lastFailure: string, target: { host: string; port: number }): string {
  const where = `target ${target.host}:${target.port}`;
  const unreachable = unreachableCodes.find((code) => lastFailure.includes(code));
  const lost = lostCodes.find((code) => lastFailure.includes(code));
  const what = unreachable ? `${where} unreachable: ${unreachable}` : lost ? `connection to ${where} lost: ${lost}` : `${activityType}: ${firstLine(lastFailure)}`;
  return `${what}, retrying, attempt ${attempt}`;
}

function firstLine(message: string): string {
  const line = message.split('\n', 1)[0].trim() || 'failed';
  return line.length > longestDetail ? `${line.slice(0, longestDetail - 1)}…` : line;
}
