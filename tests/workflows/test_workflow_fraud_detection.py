"""The paper's first workflow, end to end, through public APIs only (boto3 outside and inside
the functions):

    CSV upload to S3 ──(S3 notification)──▶ preprocess ──(OnSuccess destination)──▶ score
    score writes scored CSV ──(S3 notification)──▶ postprocess ──▶ results in S3
                                                              └──▶ SNS topic ──▶ SQS queue

- ``preprocess`` reads the raw CSV, drops malformed rows, normalises fields and writes
  ``clean/<name>.csv``; it returns where it wrote.
- ``score`` (a stand-in until model endpoints exist) marks rows high risk by a fixed rule and
  writes ``scored/<name>.csv``.
- ``postprocess`` stores a JSON summary under ``results/`` and publishes each high-risk row to
  the alerts topic, to which an SQS queue is subscribed with raw delivery.

The queue must hold exactly the high-risk rows: each once, nothing else.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from lambdamaker.testing import ServerProcess, zip_source

ROLE = "arn:aws:iam::000000000000:role/fraud-pipeline"
BUCKET = "fraud-transactions"

PREPROCESS = """
import csv, io, os, urllib.parse
import boto3

s3 = boto3.client("s3")

def handler(event, context):
    record = event["Records"][0]
    bucket = record["s3"]["bucket"]["name"]
    key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    rows = []
    for row in csv.DictReader(io.StringIO(body)):
        try:
            amount = float((row.get("amount") or "").strip())
        except ValueError:
            continue  # malformed amount: dropped by cleaning
        tx = (row.get("tx_id") or "").strip()
        if not tx:
            continue
        rows.append({
            "tx_id": tx,
            "amount": f"{amount:.2f}",
            "country": (row.get("country") or "").strip().upper(),
            "card_country": (row.get("card_country") or "").strip().upper(),
        })
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["tx_id", "amount", "country", "card_country"])
    writer.writeheader()
    writer.writerows(rows)
    name = os.path.basename(key)
    clean_key = "clean/" + name
    s3.put_object(Bucket=bucket, Key=clean_key, Body=out.getvalue().encode())
    return {"bucket": bucket, "key": clean_key, "rows": len(rows)}
"""

SCORE = """
import csv, io, os
import boto3

s3 = boto3.client("s3")

def handler(event, context):
    # Invoked as preprocess's OnSuccess destination: the record carries its response.
    done = event["responsePayload"]
    body = s3.get_object(Bucket=done["bucket"], Key=done["key"])["Body"].read().decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    for row in rows:
        risky = float(row["amount"]) >= 1000 or row["country"] != row["card_country"]
        row["high_risk"] = "1" if risky else "0"
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=["tx_id", "amount", "country", "card_country", "high_risk"]
    )
    writer.writeheader()
    writer.writerows(rows)
    key = "scored/" + os.path.basename(done["key"])
    s3.put_object(Bucket=done["bucket"], Key=key, Body=out.getvalue().encode())
    return {"scored": len(rows)}
"""

POSTPROCESS = """
import csv, io, json, os, urllib.parse
import boto3

s3 = boto3.client("s3")
sns = boto3.client("sns")

def handler(event, context):
    record = event["Records"][0]
    bucket = record["s3"]["bucket"]["name"]
    key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
    rows = list(csv.DictReader(io.StringIO(
        s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    )))
    high = [r for r in rows if r["high_risk"] == "1"]
    summary = {"source": key, "rows": len(rows), "high_risk": [r["tx_id"] for r in high]}
    name = os.path.splitext(os.path.basename(key))[0]
    s3.put_object(Bucket=bucket, Key="results/" + name + ".json",
                  Body=json.dumps(summary).encode())
    topic = os.environ["ALERTS_TOPIC"]
    for row in high:
        sns.publish(TopicArn=topic, Message=json.dumps(row), Subject="high risk transaction",
                    MessageAttributes={"tx_id": {"DataType": "String",
                                                  "StringValue": row["tx_id"]}})
    return summary
"""

RAW_CSV = """tx_id,amount,country,card_country
t001, 12.50 ,us,US
t002,2500,US,US
t003,40,FR,US
t004,not-a-number,US,US
t005,999.99,DE,de
,15,US,US
t006,1000,GB,GB
t007,7.25,br,BR
"""
EXPECTED_HIGH_RISK = {"t002", "t003", "t006"}
EXPECTED_ROWS = 6  # t004 (bad amount) and the row without an id are dropped


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path_factory.mktemp("fraud") / "data").start()
    yield server
    server.stop()


def _function(lam: Any, name: str, code: str, **extra: Any) -> str:
    arn: str = lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_source(code)},
        Timeout=30,
        **extra,
    )["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    return arn


def _drain(sqs: Any, url: str, wait_s: float) -> list[dict[str, Any]]:
    """Every message that arrives within ``wait_s`` seconds of the last one."""
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        resp = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        )
        for message in resp.get("Messages", []):
            got.append(message)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return got


def test_csv_upload_flows_to_high_risk_alerts(server: ServerProcess) -> None:
    s3, lam = server.client("s3"), server.client("lambda")
    sns, sqs = server.client("sns"), server.client("sqs")

    topic = sns.create_topic(Name="fraud-alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="fraud-alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )

    score = _function(lam, "score", SCORE)
    preprocess = _function(lam, "preprocess", PREPROCESS)
    postprocess = _function(
        lam, "postprocess", POSTPROCESS, Environment={"Variables": {"ALERTS_TOPIC": topic}}
    )
    lam.put_function_event_invoke_config(
        FunctionName="preprocess",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnSuccess": {"Destination": score}},
    )

    s3.create_bucket(Bucket=BUCKET)
    for name in ("preprocess", "postprocess"):
        lam.add_permission(
            FunctionName=name,
            StatementId="s3-invoke",
            Action="lambda:InvokeFunction",
            Principal="s3.amazonaws.com",
            SourceArn=f"arn:aws:s3:::{BUCKET}",
        )

    def trigger(arn: str, prefix: str, suffix: str) -> dict[str, Any]:
        return {
            "LambdaFunctionArn": arn,
            "Events": ["s3:ObjectCreated:*"],
            "Filter": {
                "Key": {
                    "FilterRules": [
                        {"Name": "prefix", "Value": prefix},
                        {"Name": "suffix", "Value": suffix},
                    ]
                }
            },
        }

    s3.put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                trigger(preprocess, "raw/", ".csv"),
                trigger(postprocess, "scored/", ".csv"),
            ]
        },
    )

    s3.put_object(Bucket=BUCKET, Key="raw/2026-11-28 batch.csv", Body=RAW_CSV.encode())

    deadline = time.monotonic() + 90
    summary = None
    while time.monotonic() < deadline:
        try:
            body = s3.get_object(Bucket=BUCKET, Key="results/2026-11-28 batch.json")["Body"]
            summary = json.loads(body.read())
            break
        except s3.exceptions.NoSuchKey:
            time.sleep(0.2)
    assert summary is not None, "postprocess never stored its results"
    assert summary["rows"] == EXPECTED_ROWS
    assert set(summary["high_risk"]) == EXPECTED_HIGH_RISK

    clean = s3.get_object(Bucket=BUCKET, Key="clean/2026-11-28 batch.csv")["Body"].read()
    clean_rows = list(csv.DictReader(io.StringIO(clean.decode())))
    assert [r["tx_id"] for r in clean_rows] == ["t001", "t002", "t003", "t005", "t006", "t007"]
    assert clean_rows[0]["amount"] == "12.50" and clean_rows[0]["country"] == "US"

    messages = _drain(sqs, queue_url, wait_s=4)
    alerts = [json.loads(m["Body"]) for m in messages]
    assert sorted(a["tx_id"] for a in alerts) == sorted(EXPECTED_HIGH_RISK)
    assert all(a["high_risk"] == "1" for a in alerts)
    assert {m["MessageAttributes"]["tx_id"]["StringValue"] for m in messages} == (
        EXPECTED_HIGH_RISK
    )
