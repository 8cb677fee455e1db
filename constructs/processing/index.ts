// Public API of the processing layer.
export * from './flink-sql';
export * from './flink-runtime';
export * from './flink-tables';
export * from './flink-sql-application';
export * from './example';
