"""`ember submit job.py`: spark-submit's contract for PySpark programs, and a session
started the way programs start one (builder options in a silent Config request)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import ember_binary


def submit(tmp_path: Path, source: str, *args: str, opts=(), env_extra=None):
    prog = tmp_path / "job.py"
    prog.write_text(textwrap.dedent(source))
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for k in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON", "SPARK_REMOTE"):
        env.pop(k, None)
    env.update(env_extra or {})
    return subprocess.run([ember_binary(), "submit", *opts, str(prog), *args], env=env,
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)


def test_program_arguments_output_and_exit_status(tmp_path):
    p = submit(tmp_path, """
        import sys
        from pyspark.sql import SparkSession
        spark = (SparkSession.builder.appName("nightly-job").master("local[4]")
                 .config("spark.executor.memory", "2g").enableHiveSupport().getOrCreate())
        print("args:", sys.argv[1:])
        print("app:", spark.conf.get("spark.app.name"))
        print("executor memory:", spark.conf.get("spark.executor.memory"))
        print("partitions:", spark.conf.get("spark.sql.shuffle.partitions"))
        print("count:", spark.range(10).filter("id % 2 = 0").count())
        print("to stderr", file=sys.stderr)
        spark.stop()
        sys.exit(3)
    """, "--input", "a b", "-x", "--", "last",
        opts=["--master", "local[2]", "--conf", "spark.sql.shuffle.partitions=5", "--name", "from-cli"])
    assert p.returncode == 3, p.stderr
    assert p.stdout.splitlines() == [
        "args: ['--input', 'a b', '-x', '--', 'last']",
        "app: nightly-job",
        "executor memory: 2g",
        "partitions: 5",
        "count: 5",
    ], p.stdout + p.stderr
    assert "to stderr" in p.stderr
    # ember's bootstrap adds nothing to the program's stderr.
    assert "sitecustomize" not in p.stderr, p.stderr


def test_name_option_names_the_application(tmp_path):
    p = submit(tmp_path, """
        from pyspark.sql import SparkSession
        spark = SparkSession.builder.getOrCreate()
        print(spark.conf.get("spark.app.name"))
    """, opts=["--name", "from-cli"])
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "from-cli"


def test_python_exception_is_the_programs_exit_status(tmp_path):
    p = submit(tmp_path, """
        from pyspark.sql import SparkSession
        spark = SparkSession.builder.getOrCreate()
        spark.sql("SELECT no_such_column FROM range(1)").collect()
    """)
    assert p.returncode == 1
    assert "UNRESOLVED_COLUMN" in p.stderr


def test_py_files_reach_program_and_workers(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "helpers.py").write_text("def double(x):\n    return 2 * x\n")
    p = submit(tmp_path, """
        from pyspark.sql import SparkSession, functions as F
        from helpers import double
        spark = SparkSession.builder.getOrCreate()
        f = F.udf(lambda x: double(x), "long")
        print(sorted(r[0] for r in spark.range(3).select(f("id")).collect()))
    """, opts=["--py-files", str(lib / "helpers.py")])
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[0, 2, 4]"


def test_missing_packages_are_named(tmp_path):
    venv = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    p = submit(tmp_path, "print('never')\n",
               env_extra={"PYSPARK_DRIVER_PYTHON": str(venv / "bin" / "python")})
    assert p.returncode != 0
    assert "never" not in p.stdout
    assert "pyspark-client" in p.stderr and "pyarrow" in p.stderr and "-m pip install" in p.stderr, p.stderr


def test_sql_scripts_still_run(tmp_path):
    script = tmp_path / "job.sql"
    script.write_text("SELECT 1 + 1 AS two;\n")
    p = subprocess.run([ember_binary(), "submit", str(script), "--master", "local[2]", "--output", "csv"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["two", "2"]


def test_builder_options_are_accepted_where_spark_ignores_them(server):
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.remote(server.url).appName("builder-app")
             .config("spark.executor.memory", "3g").config("spark.sql.warehouse.dir", "/elsewhere")
             .enableHiveSupport().create())
    try:
        assert spark.conf.get("spark.app.name") == "builder-app"
        assert spark.conf.get("spark.executor.memory") == "3g"
        # a static SQL key keeps the server's value, as in Spark
        assert spark.conf.get("spark.sql.warehouse.dir") != "/elsewhere"
        assert spark.range(3).count() == 3
        assert spark.version.startswith("4.")
    finally:
        spark.stop()


def test_explicit_static_set_still_fails(spark):
    from pyspark.errors import AnalysisException
    import pytest

    with pytest.raises(AnalysisException, match="CANNOT_MODIFY_STATIC_CONFIG"):
        spark.conf.set("spark.sql.warehouse.dir", "/x")
