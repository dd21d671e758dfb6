"""The real servers the suites rely on start and answer."""

from __future__ import annotations

import psycopg2
import sqlalchemy as sa

from tests.support.postgres import PostgresDatabase
from tests.support.s3_server import S3Bucket


def test_postgres_database_accepts_sql(postgres_database: PostgresDatabase) -> None:
    engine = sa.create_engine(postgres_database.url)
    with engine.connect() as connection:
        version = connection.execute(sa.text("show server_version")).scalar_one()
    engine.dispose()
    assert version.startswith("15")
    params = postgres_database.dagster_config
    connection = psycopg2.connect(
        host=params["hostname"],
        port=params["port"],
        user=params["username"],
        password=params["password"],
        dbname=params["db_name"],
    )
    connection.close()


def test_s3_bucket_round_trips_over_http(s3_bucket: S3Bucket) -> None:
    client = s3_bucket.client()
    client.put_object(Bucket=s3_bucket.name, Key="ws/a.txt", Body=b"hello")
    assert client.get_object(Bucket=s3_bucket.name, Key="ws/a.txt")["Body"].read() == b"hello"
    assert s3_bucket.endpoint_url.startswith("http://127.0.0.1:")
