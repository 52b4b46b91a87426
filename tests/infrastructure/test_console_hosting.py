"""The console in the stack: a private bucket behind CloudFront (OAC), the SPA rewrite, the API under
/api on the same origin, security headers, the built files and config.json deployed, ConsoleUrl."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_apigateway as apigw

from blueprint import CONSOLE, StaticSite
from infra.constructs.console import (
    API_PATH,
    ConsoleHosting,
    ConsoleNotBuiltError,
    api_rewrite_code,
    spa_rewrite_code,
)
from infra.synth import resources_of_type

pytestmark = pytest.mark.slow

Template = dict[str, Any]


def only(template: Template, resource_type: str) -> dict[str, Any]:
    (resource,) = resources_of_type(template, resource_type).values()
    return dict(resource["Properties"])


def distribution_config(template: Template) -> dict[str, Any]:
    return dict(only(template, "AWS::CloudFront::Distribution")["DistributionConfig"])


def console_bucket_id(template: Template) -> str:
    (origin,) = [o for o in distribution_config(template)["Origins"] if "S3OriginConfig" in o]
    return str(origin["DomainName"]["Fn::GetAtt"][0])


def test_the_console_bucket_is_private_encrypted_ssl_only_and_logged(template: Template) -> None:
    buckets = resources_of_type(template, "AWS::S3::Bucket")
    assert len(buckets) == 2  # the console's and its logs'
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert "WebsiteConfiguration" not in props
    console = buckets[console_bucket_id(template)]["Properties"]
    assert console["LoggingConfiguration"]["DestinationBucketName"]["Ref"] in buckets
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in resources_of_type(template, "AWS::S3::BucketPolicy").values()
    ]
    denies_plain_http = [
        s
        for statements in policies
        for s in statements
        if s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert len(denies_plain_http) == 2


def test_only_cloudfront_reads_the_bucket_through_origin_access_control(template: Template) -> None:
    oac = only(template, "AWS::CloudFront::OriginAccessControl")["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"]) == ("s3", "always")
    (origin,) = [o for o in distribution_config(template)["Origins"] if "S3OriginConfig" in o]
    assert "OriginAccessControlId" in origin
    assert origin["S3OriginConfig"].get("OriginAccessIdentity", "") == ""
    bucket = console_bucket_id(template)
    (grant,) = [
        s
        for p in resources_of_type(template, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket}
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow"
    ]
    assert grant["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert grant["Action"] == "s3:GetObject"
    assert "AWS:SourceArn" in grant["Condition"]["StringEquals"]


def test_the_distribution_serves_the_console_and_the_api_on_one_origin(template: Template) -> None:
    config = distribution_config(template)
    assert config["DefaultRootObject"] == "console/index.html"
    default = config["DefaultCacheBehavior"]
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    assert [a["EventType"] for a in default["FunctionAssociations"]] == ["viewer-request"]
    assert "ResponseHeadersPolicyId" in default
    (api,) = config["CacheBehaviors"]
    assert api["PathPattern"] == f"{API_PATH}/*"
    assert set(api["AllowedMethods"]) >= {"GET", "POST", "PUT", "DELETE"}
    (api_origin,) = [o for o in config["Origins"] if o["Id"] == api["TargetOriginId"]]
    assert api_origin["OriginPath"] == "/v1"
    assert api_origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    rest_api_id = next(iter(resources_of_type(template, "AWS::ApiGateway::RestApi")))
    assert {"Ref": rest_api_id} in api_origin["DomainName"]["Fn::Join"][1]
    cache = only(template, "AWS::CloudFront::CachePolicy")["CachePolicyConfig"]
    assert cache["DefaultTTL"] == 0
    headers = cache["ParametersInCacheKeyAndForwardedToOrigin"]["HeadersConfig"]["Headers"]
    assert set(headers) == {"Authorization", "x-api-key"}  # the credentials reach the API
    assert config["Logging"]["Bucket"]


def test_security_headers(template: Template) -> None:
    config = only(template, "AWS::CloudFront::ResponseHeadersPolicy")["ResponseHeadersPolicyConfig"]
    headers = config["SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ContentTypeOptions"]["Override"] is True
    policy = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    text = json.dumps(policy)
    assert "default-src 'self'" in text and "frame-ancestors 'none'" in text
    assert "amazoncognito.com" in text  # the token exchange


def deployed_config(outdir: Path, deployment: dict[str, Any]) -> Any:
    """config.json as deployed: each deploy-time marker replaced by the value it stands for, as JSON."""
    (config,) = outdir.glob(f"asset.*/{CONSOLE.config}")
    text = config.read_text()
    for markers in deployment["Properties"].get("SourceMarkers", []):
        for marker, value in markers.items():
            text = text.replace(marker, json.dumps(json.dumps(value, sort_keys=True)))
    return json.loads(text)


def test_the_built_console_and_its_config_are_deployed_under_console(synthesized: Any) -> None:
    (deployment,) = resources_of_type(synthesized.template, "Custom::CDKBucketDeployment").values()
    props = deployment["Properties"]
    assert props["DestinationBucketKeyPrefix"] == "console"
    assert props["DestinationBucketName"] == {"Ref": console_bucket_id(synthesized.template)}
    assert len(props["SourceObjectKeys"]) == 2  # console/dist and config.json
    assert props["DistributionPaths"] == ["/console/*"]
    (built,) = [p for p in synthesized.outdir.glob(f"asset.*/{CONSOLE.index}")]
    assert built.read_bytes() == (CONSOLE.folder / CONSOLE.index).read_bytes()
    config = deployed_config(synthesized.outdir, deployment)
    assert config["apiBase"] == API_PATH
    assert config["signIn"]["apiKey"] is True


def test_the_stack_outputs_the_console_url(template: Template) -> None:
    output = template["Outputs"]["ConsoleUrl"]["Value"]
    rendered = json.dumps(output)
    assert "DomainName" in rendered and rendered.endswith('"/console/"]]}')


def test_the_stack_refuses_an_unbuilt_console(tmp_path: Path) -> None:
    site = StaticSite(name="Console", path="/console", folder=tmp_path / "dist")
    stack = Stack(App(), "Canary")
    api = apigw.RestApi(stack, "Api")
    api.root.add_method("GET")
    with pytest.raises(ConsoleNotBuiltError, match="make console"):
        ConsoleHosting(stack, "Console", site=site, rest_api=api, stage_name="v1")
    assert CONSOLE.config == "config.json"


def run_cloudfront_function(code: str, uri: str) -> Any:
    """The function's answer to a viewer request for `uri`, run by Node."""
    script = code + f"\nconsole.log(JSON.stringify(handler({{request: {{uri: {json.dumps(uri)}}}}})));"
    return json.loads(
        subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True).stdout
    )


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node")
@pytest.mark.parametrize(
    ("uri", "origin_uri"),
    [
        ("/console/", "/console/index.html"),
        ("/console/orders", "/console/index.html"),
        ("/console/orders/ord_1", "/console/index.html"),
        ("/console/callback", "/console/index.html"),
        ("/console/index.html", "/console/index.html"),
        ("/console/config.json", "/console/config.json"),
        ("/console/assets/index-abc.js", "/console/assets/index-abc.js"),
        ("/console/assets/missing", "/console/assets/missing"),
    ],
)
def test_every_console_path_without_a_file_answers_the_index(uri: str, origin_uri: str) -> None:
    assert run_cloudfront_function(spa_rewrite_code(CONSOLE), uri)["uri"] == origin_uri


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node")
def test_the_root_redirects_to_the_console_and_api_paths_lose_their_prefix() -> None:
    for uri in ("/", "/console"):
        answer = run_cloudfront_function(spa_rewrite_code(CONSOLE), uri)
        assert (answer["statusCode"], answer["headers"]["location"]["value"]) == (302, "/console/")
    assert run_cloudfront_function(api_rewrite_code(), "/api/orders/ord_1")["uri"] == "/orders/ord_1"
    assert run_cloudfront_function(api_rewrite_code(), "/api/")["uri"] == "/"
