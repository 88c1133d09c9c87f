"""The S3-compatible media store: our Signature Version 4 against botocore's signer, and
the store against a local S3 server (moto), incl. what the local store cannot show:
the service's own record of the object, a missing bucket, an unreachable service. The
store's contract (put/get/exists/mime_type) runs on both backends in
test_store_and_checks.py."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from streams.failure.errors import is_transient
from streams.media import store as media_store
from streams.media.s3 import S3Refused, S3Store, S3Unavailable
from streams.media.sigv4 import EMPTY_SHA256, Credentials, sign
from tests.support.s3 import ACCESS_KEY, REGION, SECRET, S3Server, s3_server
from wastream.config import Settings

KEY = hashlib.sha256(b"a photo").hexdigest()


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with s3_server() as server:
        yield server


@pytest.mark.parametrize(("method", "url", "headers", "body"), [
    ("PUT", f"http://127.0.0.1:9000/bucket/{KEY}", {"Content-Type": "image/jpeg"}, b"a photo"),
    ("GET", f"http://127.0.0.1:9000/bucket/{KEY}", {}, b""),
    ("HEAD", f"https://s3.eu-west-1.amazonaws.com/my.bucket/{KEY}", {}, b""),
    ("GET", "http://localhost/bucket/a%20b~c?list-type=2&prefix=ab&delimiter=%2F", {}, b""),
])
def test_our_signature_is_botocores(method: str, url: str, headers: dict[str, str],
                                    body: bytes) -> None:
    region = "eu-west-1" if "eu-west-1" in url else REGION
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    S3SigV4Auth(BotoCredentials(ACCESS_KEY, SECRET), "s3", region).add_auth(request)
    theirs = dict(request.headers.items())
    payload = hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256
    assert theirs["X-Amz-Content-SHA256"] == payload
    now = datetime.strptime(theirs["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    ours = sign(Credentials(ACCESS_KEY, SECRET, region), method, url, headers, payload, now)
    assert ours["Authorization"] == theirs["Authorization"]


def test_a_different_secret_region_or_body_signs_differently() -> None:
    now = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    url = f"http://127.0.0.1:9000/bucket/{KEY}"
    base = sign(Credentials(ACCESS_KEY, SECRET, REGION), "PUT", url, {}, KEY, now)
    for creds, payload in [(Credentials(ACCESS_KEY, SECRET + "x", REGION), KEY),
                           (Credentials(ACCESS_KEY, SECRET, "eu-west-1"), KEY),
                           (Credentials(ACCESS_KEY, SECRET, REGION), EMPTY_SHA256)]:
        assert sign(creds, "PUT", url, {}, payload, now)["Authorization"] != (
            base["Authorization"])


async def test_an_object_is_a_put_of_its_key_with_its_type(s3: S3Server) -> None:
    bucket = s3.bucket()
    store = s3.store(bucket)
    try:
        key = await store.put(b"a photo", "image/jpeg")
        assert key == KEY
        assert await store.put(b"a photo", "image/jpeg") == key
        seen = boto3.client("s3", endpoint_url=s3.endpoint_url, region_name=REGION,
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET)
        assert [o["Key"] for o in seen.list_objects_v2(Bucket=bucket)["Contents"]] == [KEY]
        got = seen.get_object(Bucket=bucket, Key=KEY)
        assert (got["Body"].read(), got["ContentType"]) == (b"a photo", "image/jpeg")
    finally:
        await store.close()


async def test_a_missing_bucket_is_refused_and_a_dead_service_is_transient(
        s3: S3Server) -> None:
    store = s3.store("no-such-bucket-here")
    try:
        with pytest.raises(S3Refused) as refused:
            await store.put(b"a photo", "image/jpeg")
        assert not is_transient(refused.value)  # a dead letter, not retried forever
    finally:
        await store.close()
    gone = S3Store("http://127.0.0.1:9", "bucket", Credentials(ACCESS_KEY, SECRET, REGION),
                   timeout_s=5)
    try:
        with pytest.raises(S3Unavailable) as unavailable:
            await gone.get(KEY)
        assert is_transient(unavailable.value)  # the retry tiers
    finally:
        await gone.close()


def test_settings_choose_the_backend() -> None:
    assert isinstance(media_store.from_settings(Settings.from_env({})), media_store.LocalStore)
    chosen = media_store.from_settings(Settings.from_env({
        "WASTREAM_MEDIA_STORE": "s3", "WASTREAM_MEDIA_S3_BUCKET": "photos",
        "WASTREAM_MEDIA_S3_ENDPOINT_URL": "http://127.0.0.1:9000/",
        "WASTREAM_MEDIA_S3_REGION": "eu-west-1", "WASTREAM_MEDIA_S3_ACCESS_KEY_ID": "AK",
        "WASTREAM_MEDIA_S3_SECRET_ACCESS_KEY": "SK"}))
    assert isinstance(chosen, S3Store)
    assert (chosen.base, chosen.creds) == (
        "http://127.0.0.1:9000/photos", Credentials("AK", "SK", "eu-west-1"))
