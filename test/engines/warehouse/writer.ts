// The warehouse writer's local runner lives with the engines `dev --engines` runs (cli/dev/engines/warehouse/writer.ts); the engine
// tests import it here.
export * from '../../../cli/dev/engines/warehouse/writer';
