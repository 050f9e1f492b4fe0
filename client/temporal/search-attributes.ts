import { tempestSearchAttributes } from '../../workflows/search-attributes';
import type { TemporalSession } from './connect';

/**
 * Whether the server has Tempest's search attributes (the embedded dev server registers them; on a
 * server of one's own the operator does, as the README shows): a workflow started with attributes
 * the server lacks is refused, so they are set only where they exist.
 */
export async function hasTempestSearchAttributes(temporal: TemporalSession): Promise<boolean> {
  try {
    const { customAttributes } = await temporal.client.connection.operatorService.listSearchAttributes({ namespace: temporal.namespace });
    return tempestSearchAttributes.every((key) => customAttributes?.[key.name] !== undefined);
  } catch {
    // A server that will not say (permissions, an older server): without them.
    return false;
  }
}
