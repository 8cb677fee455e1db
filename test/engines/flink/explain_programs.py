"""Plans Flink SQL programs on the real Flink engine without running them: one PyFlink process (one JVM) for the batch.

Input (argv[1], JSON): {"jars": ["/abs/x.jar", ...], "programs": [{"name": ..., "sql": ...}, ...]}.
Each program is ordered exactly as lambda/flink-sql-runner/main.py orders it (SET, DDL, then every INSERT in one statement
set); DDL runs with execute_sql and the statement set is explained, never executed. Prints one JSON line per program:
{"name", "ok", "error" (the Java exception's message chain), "seconds"}.
"""
import importlib.util
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.realpath(__file__))
RUNNER = os.path.join(HERE, "..", "..", "..", "lambda", "flink-sql-runner", "main.py")


def load_runner():
    spec = importlib.util.spec_from_file_location("flink_sql_runner", RUNNER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def message_of(e):
    """The Java exception chain's messages (py4j wraps the Java exception; PyFlink re-raises some as its own types)."""
    java = getattr(e, "java_exception", None)
    parts = []
    seen = 0
    while java is not None and seen < 12:
        parts.append("%s: %s" % (java.getClass().getName(), java.getMessage()))
        java = java.getCause()
        seen += 1
    return " | ".join(parts) if parts else "%s: %s" % (type(e).__name__, e)


def main():
    runner = load_runner()
    with open(sys.argv[1], "r", encoding="utf-8") as f:
        spec = json.load(f)
    jars = ["file://" + j for j in spec["jars"]]
    for program in spec["programs"]:
        started = time.time()
        result = {"name": program["name"], "ok": False}
        try:
            settings, ddl, inserts = runner.plan(program["sql"])
            runner.statement_set_for(settings, ddl, inserts, jars, [("parallelism.default", "1")]).explain()
            result["ok"] = True
        except Exception as e:  # noqa: BLE001 - every failure is the answer for this program
            result["error"] = message_of(e)
        result["seconds"] = round(time.time() - started, 2)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
