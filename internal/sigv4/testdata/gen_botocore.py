#!/usr/bin/env python3
"""Generate botocore.json: Glacier-style requests signed by botocore, as they travel on the wire.

Run from this directory (python3 with botocore installed):

    python3 gen_botocore.py > botocore.json

Every case is signed at a fixed time (2013-05-24T00:00:00Z) with fixed credentials, by patching
botocore.auth.get_current_datetime, which SigV4Auth.add_auth reads. Three kinds of case:

* "SigV4Auth" / "SigV4QueryAuth": an AWSRequest signed directly by botocore's signer classes (header and
  presigned-query auth), then prepared as botocore would send it.
* "client": a real botocore Glacier client (serializer, Glacier customizations adding x-amz-glacier-version
  and the checksum headers, signer); the prepared request is captured in the before-send event, nothing is sent.
* "presign-client": client.generate_presigned_url.

For each case the JSON holds the wire request (method, raw path, raw query, headers in order with the Host
header http.client would send, body) and botocore's own canonical request, captured from its debug log.
The Go test (botocore_test.go) parses each as a raw HTTP request and verifies it; it never runs Python.
"""

import datetime
import json
import logging
import sys
from urllib.parse import urlsplit

import botocore
import botocore.auth
import botocore.session
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SIGN_TIME = datetime.datetime(2013, 5, 24, 0, 0, 0)
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "FQoGZXIvYXdzEXAMPLE//token+with/slashes="
ENDPOINT = "http://127.0.0.1:9000"

botocore.auth.get_current_datetime = lambda *args, **kwargs: SIGN_TIME


class CanonicalCapture(logging.Handler):
    """Keeps the last canonical request botocore.auth logs at DEBUG."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.last = None

    def emit(self, record):
        if record.msg.startswith("CanonicalRequest"):
            self.last = record.args[0] if isinstance(record.args, tuple) else record.args


capture = CanonicalCapture()
auth_logger = logging.getLogger("botocore.auth")
auth_logger.setLevel(logging.DEBUG)
auth_logger.addHandler(capture)
auth_logger.propagate = False


def text(v):
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def wire(name, signer, region, prepared_url, method, headers, body):
    """Describe a request the way http.client puts it on the wire."""
    parts = urlsplit(prepared_url)
    default_port = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname
    if parts.port is not None and parts.port != default_port:
        host = "%s:%d" % (host, parts.port)
    hdrs = [["Host", host]]
    for k, v in headers.items():
        k, v = text(k), text(v)
        # Unsigned headers whose values change from run to run are pinned, so the file is reproducible.
        if k.lower() == "user-agent":
            v = "Botocore/" + botocore.__version__
        elif k.lower() == "amz-sdk-invocation-id":
            v = "00000000-0000-4000-8000-000000000000"
        hdrs.append([k, v])
    if body is None:
        body = b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    if hasattr(body, "read"):
        body.seek(0)
        body = body.read()
    return {
        "name": name,
        "signer": signer,
        "region": region,
        "method": method,
        "path": parts.path or "/",
        "query": parts.query,
        "headers": hdrs,
        "body": body.decode("utf-8"),
        "canonical_request": capture.last,
    }


def raw_case(name, method, url, headers=None, body=b"", region="us-east-1", token=None, presign_expires=None):
    creds = Credentials(ACCESS_KEY, SECRET_KEY, token)
    req = AWSRequest(method=method, url=url, headers=headers or {}, data=body)
    if presign_expires is None:
        signer, auth = "SigV4Auth", SigV4Auth(creds, "glacier", region)
    else:
        signer, auth = "SigV4QueryAuth", SigV4QueryAuth(creds, "glacier", region, expires=presign_expires)
    capture.last = None
    auth.add_auth(req)
    prepared = req.prepare()
    return wire(name, signer, region, prepared.url, prepared.method, prepared.headers, prepared.body)


class Captured(Exception):
    pass


def client_cases():
    session = botocore.session.get_session()
    cases = []

    def make(token=None, region="us-east-1", endpoint=ENDPOINT):
        c = session.create_client(
            "glacier", region_name=region, endpoint_url=endpoint,
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, aws_session_token=token)
        return c

    def run(name, client, op, region="us-east-1", **params):
        def before_send(request, **kwargs):
            cases.append(wire(name, "client", region, request.url, request.method, request.headers, request.body))
            raise Captured()

        client.meta.events.register("before-send", before_send)
        capture.last = None
        try:
            getattr(client, op)(**params)
        except Captured:
            pass
        finally:
            client.meta.events.unregister("before-send", before_send)

    c = make()
    run("client-list-vaults", c, "list_vaults", limit="10", marker="x y")
    run("client-describe-vault-encoded-name", c, "describe_vault", vaultName="a b%c")
    run("client-upload-archive", c, "upload_archive", vaultName="my-vault", body=b"hello world",
        archiveDescription="my  archive description")
    run("client-upload-part", c, "upload_multipart_part", vaultName="v", uploadId="UPLOAD-ID_123",
        range="bytes 0-4/*", body=b"hello")
    run("client-complete-upload", c, "complete_multipart_upload", vaultName="v", uploadId="UPLOAD-ID_123",
        archiveSize="5", checksum="2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
    run("client-add-tags", c, "add_tags_to_vault", vaultName="v", Tags={"k": "v w"})
    run("client-initiate-job", c, "initiate_job", accountId="123456789012", vaultName="v",
        jobParameters={"Type": "inventory-retrieval", "Description": "my job"})
    run("client-delete-archive", c, "delete_archive", vaultName="v", archiveId="-aBc_123-xyz")
    run("client-list-jobs", c, "list_jobs", vaultName="v", completed="true", limit="5", statuscode="Succeeded")
    run("client-non-ascii-description", c, "upload_archive", vaultName="v", body=b"x",
        archiveDescription="d\u00e9sc")
    run("client-session-token", make(token=SESSION_TOKEN), "list_vaults")
    run("client-https-default-port", make(region="us-west-2", endpoint="https://glacier.us-west-2.amazonaws.com"),
        "describe_vault", region="us-west-2", vaultName="v")

    capture.last = None
    url = c.generate_presigned_url("get_job_output", Params={"vaultName": "v", "jobId": "JOB-1"}, ExpiresIn=900)
    cases.append(wire("presign-client-get-job-output", "presign-client", "us-east-1", url, "GET", {}, b""))
    capture.last = None
    url = make(token=SESSION_TOKEN).generate_presigned_url(
        "list_jobs", Params={"vaultName": "v", "limit": "5", "marker": "m n"}, ExpiresIn=3600)
    cases.append(wire("presign-client-list-jobs-token", "presign-client", "us-east-1", url, "GET", {}, b""))
    return cases


def raw_cases():
    g = {"x-amz-glacier-version": "2012-06-01"}
    h = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    return [
        raw_case("get-vault", "GET", ENDPOINT + "/-/vaults/my-vault", g),
        raw_case("list-parts-query", "GET", ENDPOINT + "/123456789012/vaults/v/multipart-uploads/ID?limit=10&marker=x", g),
        raw_case("add-tags", "POST", ENDPOINT + "/-/vaults/v/tags?operation=add",
                 dict(g, **{"Content-Type": "application/json"}), b'{"Tags":{"a":"b"}}'),
        raw_case("upload-part", "PUT", ENDPOINT + "/-/vaults/v/multipart-uploads/UPLOADID",
                 dict(g, **{"Content-Range": "bytes 0-4/*", "x-amz-sha256-tree-hash": h,
                            "x-amz-content-sha256": h}), b"hello"),
        raw_case("delete-archive-dash", "DELETE", ENDPOINT + "/-/vaults/v/archives/-aBc_123-xyz", g),
        raw_case("encoded-path", "GET", ENDPOINT + "/-/vaults/a%20b%25c%2Fd%7E", g),
        raw_case("query-repeats-empty", "GET", ENDPOINT + "/-/vaults/v/jobs?b=&a=2&a=1&c&x=y%20z", g),
        raw_case("security-token", "GET", ENDPOINT + "/-/vaults", g, token=SESSION_TOKEN),
        raw_case("description-whitespace", "POST", ENDPOINT + "/-/vaults/v/archives",
                 dict(g, **{"x-amz-archive-description": "my   archive\tdesc", "x-amz-content-sha256": h,
                            "x-amz-sha256-tree-hash": h}), b"hello"),
        raw_case("dot-segments", "GET", ENDPOINT + "/-/vaults/v//jobs/./x/../JOB1/output", g),
        raw_case("trailing-slash", "GET", ENDPOINT + "/-/vaults/", g),
        raw_case("date-header", "GET", ENDPOINT + "/-/vaults/v",
                 dict(g, Date="Thu, 01 Jan 1970 00:00:00 GMT")),
        raw_case("https-region", "GET", "https://glacier.eu-west-1.amazonaws.com/-/vaults", g, region="eu-west-1"),
        raw_case("presign-get-job-output", "GET", ENDPOINT + "/-/vaults/v/jobs/JOB1/output",
                 presign_expires=600),
        raw_case("presign-query-token", "GET", ENDPOINT + "/-/vaults/v/jobs?completed=true&limit=5",
                 token=SESSION_TOKEN, presign_expires=3600),
        raw_case("presign-encoded-path", "GET", ENDPOINT + "/-/vaults/a%20b/jobs/J%2B1/output",
                 presign_expires=300),
    ]


def main():
    out = {
        "generator": "gen_botocore.py",
        "botocore_version": botocore.__version__,
        "time": SIGN_TIME.strftime("%Y%m%dT%H%M%SZ"),
        "access_key": ACCESS_KEY,
        "secret_key": SECRET_KEY,
        "cases": raw_cases() + client_cases(),
    }
    for c in out["cases"]:
        if not c["canonical_request"]:
            sys.exit("no canonical request captured for " + c["name"])
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
