"""Protocol-level behaviour: unsupported and malformed plans get named errors,
a client that disconnects mid-stream frees its query, sessions are isolated, and 20
concurrent clients running golden queries get correct results."""

import json
import threading
import time
import uuid

import grpc
import pytest
from pyspark.errors import AnalysisException, PySparkException
from pyspark.sql import functions as F
from pyspark.sql.connect.proto import base_pb2, relations_pb2
from pyspark.sql.connect.proto import base_pb2_grpc

from conftest import GOLDEN, new_session, register_views
from test_golden import equal, to_json


def test_unknown_relation_is_named(spark):
    plan = base_pb2.Plan(root=relations_pb2.Relation(unknown=relations_pb2.Unknown()))
    with pytest.raises(AnalysisException) as info:
        spark.client.to_table(plan, {})
    assert info.value.getCondition() == "UNSUPPORTED_FEATURE"
    assert "Unknown" in str(info.value)


def test_unsupported_relation_and_expression_are_named(spark):
    df = spark.range(3)
    with pytest.raises(AnalysisException) as info:
        df.transpose().collect()
    assert "Transpose" in str(info.value)
    with pytest.raises(AnalysisException) as info:
        spark.sql("SELECT map(1, 2) AS m").select(
            F.map_zip_with("m", "m", lambda k, v1, v2: v1 + v2)
        ).collect()
    assert info.value.getCondition() == "UNSUPPORTED_FEATURE" and "map_zip_with" in str(info.value)


def test_malformed_plan(spark):
    plan = base_pb2.Plan(root=relations_pb2.Relation())
    with pytest.raises(PySparkException) as info:
        spark.client.to_table(plan, {})
    assert "relation type is missing" in str(info.value)


def test_unknown_column_has_spark_suggestions(spark):
    df = spark.createDataFrame([(1, "a")], ["carrier", "dest"])
    with pytest.raises(AnalysisException) as info:
        df.select("carier").collect()
    assert info.value.getCondition() == "UNRESOLVED_COLUMN.WITH_SUGGESTION"
    assert "`carrier`" in str(info.value)


def test_planned_sql_follows_later_session_changes(server):
    # spark.sql plans a query at once and keeps the plan for the collect that
    # follows; a view replaced or a conf changed in between must still be seen, as
    # Spark Connect analyzes the relation again when it runs.
    s = new_session(server.url)
    s.sql("SELECT 1 AS v").createOrReplaceTempView("planned_v")
    df = s.sql("SELECT v FROM planned_v")
    s.sql("SELECT 2 AS v").createOrReplaceTempView("planned_v")
    assert [r.v for r in df.collect()] == [2]
    df = s.sql("SELECT v FROM planned_v")
    s.catalog.dropTempView("planned_v")
    with pytest.raises(AnalysisException) as info:
        df.collect()
    assert info.value.getCondition() == "TABLE_OR_VIEW_NOT_FOUND"
    df = s.sql("SELECT map_concat(map(1, 'a'), map(1, 'b')) AS m")
    s.conf.set("spark.sql.mapKeyDedupPolicy", "LAST_WIN")
    assert df.first().m == {1: "b"}
    # The same statement twice, and a DataFrame collected twice, give the same rows.
    a, b = s.sql("SELECT 3 AS x"), s.sql("SELECT 3 AS x")
    assert a.collect() == b.collect() == a.collect()
    s.stop()


def test_sessions_are_isolated(server):
    a, b = new_session(server.url), new_session(server.url)
    a.range(1).createOrReplaceTempView("only_in_a")
    a.conf.set("spark.sql.shuffle.partitions", "3")
    assert a.catalog.tableExists("only_in_a")
    assert not b.catalog.tableExists("only_in_a")
    assert b.conf.get("spark.sql.shuffle.partitions") == "4"
    a.stop()
    b.stop()


def test_disconnect_mid_stream_frees_the_query(server, spark):
    """Reads one response of a huge result, then hangs up: after the detach timeout
    (2 s in these tests) the server has cancelled and forgotten the operation, so an
    interrupt finds nothing left to stop."""
    session_id = spark.client._session_id
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    stub = base_pb2_grpc.SparkConnectServiceStub(channel)
    op = str(uuid.uuid4())
    plan = spark.range(10**12).selectExpr("id", "id * 2 AS d")._plan.to_proto(spark.client)
    req = base_pb2.ExecutePlanRequest(session_id=session_id, operation_id=op, plan=plan)
    req.request_options.append(
        base_pb2.ExecutePlanRequest.RequestOption(reattach_options=base_pb2.ReattachOptions(reattachable=True))
    )
    req.user_context.user_id = "test"
    call = stub.ExecutePlan(req)
    first = next(call)
    assert first.operation_id == op
    call.cancel()
    channel.close()
    time.sleep(4)
    interrupted = spark.interruptOperation(op)
    assert op not in interrupted


def test_twenty_concurrent_clients_get_correct_results(server):
    cases = ["by_carrier", "join_airlines", "window_rank_dense", "count_distinct", "null_counts"]
    errors = []

    def client(i):
        try:
            s = new_session(server.url)
            register_views(s)
            for c in cases:
                d = GOLDEN / c
                got = [[to_json(v) for v in r] for r in s.sql((d / "query.sql").read_text()).collect()]
                want = json.loads((d / "rows.json").read_text())
                key = lambda r: json.dumps(r, sort_keys=True)
                got.sort(key=key)
                want.sort(key=key)
                if len(got) != len(want) or not all(equal(g, w) for g, w in zip(got, want)):
                    errors.append(f"client {i}: {c} differs")
            s.stop()
        except Exception as e:  # noqa: BLE001
            errors.append(f"client {i}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors[:5]
