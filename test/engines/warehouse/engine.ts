// The local warehouse lives with the engines `dev --engines` runs (cli/dev/engines/warehouse/engine.ts); the engine tests import it here.
export * from '../../../cli/dev/engines/warehouse/engine';
