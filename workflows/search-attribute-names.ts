/** Tempest's search attributes, all of type Keyword (names only: the CLI reads them before it loads the SDK). */
export const searchAttributeNames = { source: 'TempestSource', target: 'TempestTarget', state: 'TempestState' } as const;
