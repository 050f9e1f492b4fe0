import { defineSearchAttributeKey } from '@temporalio/common';
import { searchAttributeNames } from './search-attribute-names';

/**
 * What `temporal workflow list --query` can find a task by: its dump, its target (host:port, never
 * a user or password) and its phase. Registered on the embedded dev server; on a server of one's
 * own, used when the operator registered them (README: On a Temporal cluster of your own).
 */
export const tempestSource = defineSearchAttributeKey(searchAttributeNames.source, 'KEYWORD');
export const tempestTarget = defineSearchAttributeKey(searchAttributeNames.target, 'KEYWORD');
export const tempestState = defineSearchAttributeKey(searchAttributeNames.state, 'KEYWORD');

export const tempestSearchAttributes = [tempestSource, tempestTarget, tempestState];
