"""A local S3-compatible object store for the deployment tests: moto's server mode.

`s3_endpoint` starts moto's server once per test process, in a thread, on a free port of
127.0.0.1 (nothing leaves the machine); `object_store` gives each test two fresh buckets (the
records', the checkpoints') and the CONSENT_S3_* environment that names them, which both the
settings of this process (`object_store.use(settings)`) and the application servers started as
subprocesses read through the same `consent.objectstore.s3_storages`.
"""

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from consent.objectstore import s3_storages

# moto accepts any key; these only have to look like one (never real credentials).
ACCESS_KEY = "testing-access-key"
SECRET_KEY = "testing-secret-key"
REGION = "us-east-1"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@dataclass
class ObjectStore:
    endpoint: str
    bucket: str
    checkpoint_bucket: str

    @property
    def environ(self) -> dict[str, str]:
        """What a deployment sets (docs/deployment.md)."""
        return {
            "CONSENT_S3_BUCKET": self.bucket,
            "CONSENT_S3_CHECKPOINT_BUCKET": self.checkpoint_bucket,
            "CONSENT_S3_ENDPOINT_URL": self.endpoint,
            "CONSENT_S3_REGION": REGION,
            "CONSENT_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "CONSENT_S3_SECRET_ACCESS_KEY": SECRET_KEY,
        }

    def use(self, settings: Any) -> None:
        """Point this process's STORAGES at the store, as settings.py does from the environment."""
        settings.STORAGES = {**settings.STORAGES, **s3_storages(self.environ)}

    @property
    def client(self) -> Any:
        """A client of our own, to look at the store (or tamper with it) behind the app's back."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def object_keys(self, bucket: str | None = None) -> list[str]:
        listed = self.client.list_objects_v2(Bucket=bucket or self.bucket)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def read(self, key: str, bucket: str | None = None) -> bytes:
        return self.client.get_object(Bucket=bucket or self.bucket, Key=key)["Body"].read()


@pytest.fixture
def object_store(s3_endpoint: str) -> ObjectStore:
    suffix = uuid.uuid4().hex[:12]
    store = ObjectStore(s3_endpoint, f"records-{suffix}", f"checkpoints-{suffix}")
    for bucket in (store.bucket, store.checkpoint_bucket):
        store.client.create_bucket(Bucket=bucket)
    return store
