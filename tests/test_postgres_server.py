"""The whole server on PostgreSQL (``--store postgresql://...``), through boto3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambdamaker.testing import ServerProcess, TemporaryPostgres

pytestmark = pytest.mark.postgres

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def test_server_on_postgres_keeps_objects_roles_and_keys_across_restart(
    postgres_cluster: TemporaryPostgres, tmp_path: Path
) -> None:
    with postgres_cluster.database() as url:
        args = ["--store", url]
        with ServerProcess(tmp_path / "data", extra_args=args) as server:
            s3 = server.client("s3")
            s3.create_bucket(Bucket="pg-bucket")
            s3.put_object(Bucket="pg-bucket", Key="a/b.txt", Body=b"hello postgres")
            upload = s3.create_multipart_upload(Bucket="pg-bucket", Key="multi")
            part1 = s3.upload_part(
                Bucket="pg-bucket",
                Key="multi",
                UploadId=upload["UploadId"],
                PartNumber=1,
                Body=b"a" * (5 * 1024 * 1024),
            )
            part2 = s3.upload_part(
                Bucket="pg-bucket",
                Key="multi",
                UploadId=upload["UploadId"],
                PartNumber=2,
                Body=b"b",
            )
            s3.complete_multipart_upload(
                Bucket="pg-bucket",
                Key="multi",
                UploadId=upload["UploadId"],
                MultipartUpload={
                    "Parts": [
                        {"PartNumber": 1, "ETag": part1["ETag"]},
                        {"PartNumber": 2, "ETag": part2["ETag"]},
                    ]
                },
            )
            iam = server.client("iam")
            iam.create_role(RoleName="pg-role", AssumeRolePolicyDocument=json.dumps(TRUST))
            first_key = server.credentials()
        with ServerProcess(tmp_path / "data", extra_args=args) as again:
            assert again.credentials() == first_key
            s3 = again.client("s3")
            assert (
                s3.get_object(Bucket="pg-bucket", Key="a/b.txt")["Body"].read() == b"hello postgres"
            )
            multi = s3.head_object(Bucket="pg-bucket", Key="multi")
            assert multi["ContentLength"] == 5 * 1024 * 1024 + 1
            assert multi["ETag"].endswith('-2"')
            role = again.client("iam").get_role(RoleName="pg-role")["Role"]
            assert role["AssumeRolePolicyDocument"] == TRUST
