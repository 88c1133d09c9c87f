"""A local S3-compatible server for the media store's tests: moto's ThreadedMotoServer
(the S3 REST protocol over HTTP, in a thread of the test process), one bucket a test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import boto3
from moto.server import ThreadedMotoServer

from streams.media.s3 import S3Store
from streams.media.sigv4 import Credentials

REGION = "us-east-1"
ACCESS_KEY, SECRET = "AKIDWASTREAMTEST", "wastream-test-secret"  # a test credential


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str

    def bucket(self) -> str:
        """A new, empty bucket."""
        name = f"wastream-{uuid.uuid4().hex[:12]}"
        boto3.client("s3", endpoint_url=self.endpoint_url, region_name=REGION,
                     aws_access_key_id=ACCESS_KEY,
                     aws_secret_access_key=SECRET).create_bucket(Bucket=name)
        return name

    def store(self, bucket: str | None = None) -> S3Store:
        return S3Store(self.endpoint_url, bucket or self.bucket(),
                       Credentials(ACCESS_KEY, SECRET, REGION))


@contextmanager
def s3_server() -> Iterator[S3Server]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield S3Server(f"http://{host}:{port}")
    finally:
        server.stop()
