"""leadscore.frame on real PostgreSQL and a real local Spark, in non-UTC sessions.

PostgreSQL comes from LEADSCORE_TEST_POSTGRES_URL (``.ci/postgres``); Spark is a
``local[2]`` session of the ``pyspark`` package on Java 17 (``.ci/run`` installs
``openjdk-17-jre-headless``). In CI a missing engine is a failure; elsewhere these
tests skip and say how to get one. Each example costs a round of queries (seconds
on Spark), so the samples are bounded.
"""

from __future__ import annotations

import os
import shutil
import uuid

import pytest
from hypothesis import HealthCheck, given, settings

import leadscore as ls
from leadscore import frame, strategies

from .frame_support import as_dict, close, event_tables, scale_of, to_arrow
from .test_features import models_using_everything

POSTGRES = os.environ.get("LEADSCORE_TEST_POSTGRES_URL")

# PySpark's own noise, not ours: py4j leaves its sockets to the collector, and
# PySpark 4 uses pandas 3 options and keywords that pandas deprecates.
pytestmark = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning"),
]


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must test {what} for real")
    pytest.skip(f"no {what} here")


@pytest.fixture(scope="module")
def postgres():
    if not POSTGRES:
        _missing("PostgreSQL (export LEADSCORE_TEST_POSTGRES_URL=$(bash .ci/postgres))")
    import ibis
    import sqlalchemy as sa

    url = sa.engine.make_url(POSTGRES)
    con = ibis.postgres.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        database=url.database,
    )
    # Sessions default to the server's zone; answers must not depend on it.
    con.raw_sql("SET TIME ZONE 'America/New_York'")
    yield con
    con.disconnect()


@pytest.fixture(scope="module")
def spark():
    if shutil.which("java") is None:
        _missing("Java for Spark (apt-get install openjdk-17-jre-headless)")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("leadscore-tests")
        .config("spark.sql.session.timeZone", "America/New_York")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def spark_frame(spark, events):
    from pyspark.sql import types as T  # noqa: N812 - PySpark's own spelling

    table = to_arrow(events)
    fields = {
        "contact": T.StringType(),
        "kind": T.StringType(),
        "at": T.TimestampType(),
        "id": T.StringType(),
        "value": T.DoubleType(),
    }
    schema = T.StructType(
        [T.StructField(c, fields.get(c, T.StringType())) for c in table.column_names]
    )
    return spark.createDataFrame(table.to_pylist(), schema=schema)


def test_a_seed_example_on_postgres(postgres):
    """HighLevel: "+5 points when a contact opens an email", expiring."""
    model = ls.ScoringModel(
        "m",
        [ls.Rule("email.opened", 5), ls.Rule("form.submitted", 10, once_per=())],
        aging=ls.AgingPolicy.expire_after(months=6),
    )
    events = [
        ls.Event("ann", "email.opened", "2024-08-31T10:00:00Z"),
        ls.Event("ann", "form.submitted", "2024-09-01T10:00:00Z"),
        ls.Event("ann", "form.submitted", "2024-09-02T10:00:00Z"),
        ls.Event("bob", "email.opened", "2024-03-10T06:30:00Z"),
    ]
    name = f"events_{uuid.uuid4().hex}"
    table = postgres.create_table(name, to_arrow(events), temp=True)
    as_of = "2025-02-28T10:00:00Z"  # Aug 31 + 6 months = Feb 28: the open is gone
    result = frame.score(model, table, as_of)
    assert {"ann": 10.0, "bob": 0.0} == as_dict(postgres.to_pyarrow(result))
    assert ls.score(model, events, as_of) == as_dict(postgres.to_pyarrow(result))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models_using_everything(), event_tables(), strategies.instants(days=480))
def test_every_feature_together_on_postgres(postgres, model, events, as_of):
    name = f"events_{uuid.uuid4().hex}"
    table = postgres.create_table(name, to_arrow(events), temp=True)
    try:
        got = as_dict(postgres.to_pyarrow(frame.score(model, table, as_of)))
    finally:
        postgres.drop_table(name)
    close(ls.score(model, events, as_of), got, scale_of(model, events))


def test_a_pyspark_frame_gives_a_pyspark_frame(spark):
    from pyspark.sql import DataFrame

    model = ls.ScoringModel("m", [ls.Rule("email.opened", 5, once_per="message")])
    events = [
        ls.Event("ann", "email.opened", "2024-01-31T10:00:00Z", {"message": "m1"}),
        ls.Event("ann", "email.opened", "2024-02-01T10:00:00Z", {"message": "m1"}),
        ls.Event("bob", "page.viewed", "2024-05-03T08:02:00Z"),
        ls.Event("cy", "email.opened", "2024-02-03T08:02:00Z", {"message": "m2"}),
        ls.Event("ann", "contact.merged", "2024-03-01T00:00:00Z", {"from": "cy"}),
    ]
    as_of = "2024-07-31T10:00:00Z"
    out = frame.score(model, spark_frame(spark, events), as_of)
    assert isinstance(out, DataFrame)
    assert {"ann": 5.0, "bob": 0.0} == as_dict(out)  # keep-master: cy's open is gone
    assert ls.score(model, events, as_of) == as_dict(out)


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    models_using_everything(), event_tables(max_size=15), strategies.instants(days=480)
)
def test_every_feature_together_on_spark(spark, model, events, as_of):
    got = as_dict(frame.score(model, spark_frame(spark, events), as_of))
    close(ls.score(model, events, as_of), got, scale_of(model, events))
