"""Runs a FlinkSqlApplication package's program locally with its own runner (the package's main.py: program file, sql.variables,
SET options, DDL, one statement set), adding what Managed Flink supplies outside the package: the application's checkpointing and
parallelism (FLINK_LOCAL_SETTINGS, JSON). The pipeline JARs are the package's own; the local catalog's JDBC driver is on the JVM's
classpath (HADOOP_CLASSPATH, set by startWriter in writer.ts), not here. Waits for the job."""
import importlib.util
import json
import os
import sys


def main(package_dir):
    spec = importlib.util.spec_from_file_location("flink_sql_runner", os.path.join(package_dir, "main.py"))
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    properties = runner.load_properties()
    settings, ddl, inserts = runner.plan(runner.read_program(properties, package_dir))
    jars = runner.pipeline_jars(properties, package_dir, True)
    service = json.loads(os.environ.get("FLINK_LOCAL_SETTINGS", "{}"))
    statement_set = runner.statement_set_for(settings, ddl, inserts, jars, list(service.items()))
    print("local_writer: %d DDL, %d INSERT, settings %s" % (len(ddl), len(inserts), json.dumps(service)), file=sys.stderr, flush=True)
    statement_set.execute().wait()


if __name__ == "__main__":
    main(os.path.realpath(sys.argv[1]))
