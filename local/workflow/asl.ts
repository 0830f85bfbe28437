/**
 * The slice of the Amazon States Language (JSONPath flavour) the local workflow runner reads and
 * rewrites. Definitions come from parsed JSON, so states are kept as plain JSON objects and read
 * through the narrow accessors below instead of being trusted as typed unions.
 */

export type JsonPrimitive = null | boolean | number | string;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export type JsonObject = { [key: string]: JsonValue };

export type AslState = JsonObject & { readonly Type: string };
export type StateMachineDefinition = JsonObject & {
  readonly StartAt: string;
  readonly States: Record<string, AslState>;
};

export class InvalidStateMachineDefinitionError extends Error {
  override name = 'InvalidStateMachineDefinitionError';
}

/** JSONata or Distributed Map: aws-local-stepfunctions would silently ignore it, so it is refused. */
export class UnsupportedAslFeatureError extends Error {
  override name = 'UnsupportedAslFeatureError';
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses and shape-checks a state machine definition (the states inside Parallel and Map included). */
export function asStateMachineDefinition(value: unknown, where: string): StateMachineDefinition {
  if (!isJsonObject(value) || typeof value.StartAt !== 'string' || !isJsonObject(value.States)) {
    throw new InvalidStateMachineDefinitionError(`${where}: a definition needs StartAt and States`);
  }
  for (const [name, state] of Object.entries(value.States)) {
    if (!isJsonObject(state) || typeof state.Type !== 'string') {
      throw new InvalidStateMachineDefinitionError(`${where}: state "${name}" has no Type`);
    }
    for (const [index, branch] of nestedDefinitions(state).entries()) {
      asStateMachineDefinition(branch, `${where} > ${name}[${index}]`);
    }
  }
  return value as StateMachineDefinition;
}

/** The state machines a Parallel (its branches) or a Map (its item processor) runs. */
export function nestedDefinitions(state: JsonObject): StateMachineDefinition[] {
  if (state.Type === 'Parallel')
    return Array.isArray(state.Branches) ? (state.Branches as StateMachineDefinition[]) : [];
  if (state.Type === 'Map') {
    const processor = state.ItemProcessor ?? state.Iterator;
    return processor === undefined ? [] : [processor as StateMachineDefinition];
  }
  return [];
}

export interface VisitedState {
  readonly name: string;
  readonly state: AslState;
}

/** Every state of a definition, depth first, the states of Parallel branches and Map processors included. */
export function allStates(definition: StateMachineDefinition): VisitedState[] {
  return Object.entries(definition.States).flatMap(([name, state]) => [
    { name, state },
    ...nestedDefinitions(state).flatMap(allStates),
  ]);
}

export function stringField(state: JsonObject, field: string): string | undefined {
  const value = state[field];
  return typeof value === 'string' ? value : undefined;
}

export function numberField(state: JsonObject, field: string): number | undefined {
  const value = state[field];
  return typeof value === 'number' ? value : undefined;
}

const JSONATA_ONLY_FIELDS = ['Arguments', 'Output', 'Assign', 'Items'];
const DISTRIBUTED_MAP_FIELDS = [
  'ItemReader',
  'ItemBatcher',
  'ResultWriter',
  'ToleratedFailureCount',
  'ToleratedFailureCountPath',
  'ToleratedFailurePercentage',
  'ToleratedFailurePercentagePath',
];

/**
 * Refuses what aws-local-stepfunctions 3.0.0 would silently get wrong: JSONata (it evaluates JSONPath
 * only and ignores `Arguments`, `Output` and `Assign` variables) and Distributed Map.
 */
export function assertSupportedFeatures(definition: StateMachineDefinition): void {
  if (definition.QueryLanguage !== undefined && definition.QueryLanguage !== 'JSONPath') {
    throw new UnsupportedAslFeatureError(
      `QueryLanguage ${String(definition.QueryLanguage)}: only JSONPath runs`,
    );
  }
  for (const { name, state } of allStates(definition)) {
    if (state.QueryLanguage !== undefined && state.QueryLanguage !== 'JSONPath') {
      throw new UnsupportedAslFeatureError(`state "${name}": QueryLanguage ${String(state.QueryLanguage)}`);
    }
    const refused = [...JSONATA_ONLY_FIELDS, ...(state.Type === 'Map' ? DISTRIBUTED_MAP_FIELDS : [])].find(
      (field) => state[field] !== undefined,
    );
    if (refused !== undefined) {
      throw new UnsupportedAslFeatureError(`state "${name}": field ${refused} is not supported locally`);
    }
    const processor = state.ItemProcessor;
    if (isJsonObject(processor) && isJsonObject(processor.ProcessorConfig)) {
      if (processor.ProcessorConfig.Mode === 'DISTRIBUTED') {
        throw new UnsupportedAslFeatureError(`state "${name}": Distributed Map is not supported locally`);
      }
    }
  }
}
