"""The console (`blueprint.CONSOLE`) in the stack: a private S3 bucket behind CloudFront (Origin Access
Control), the built files (console/dist) deployed with a `config.json` beside `index.html`, and the
API on the same CloudFront origin under `/api/*` (no CORS: the console calls its own origin, as
locally, where the gateway serves both).

Every path under /console/ that does not name a file answers index.html (a CloudFront Function
rewrites it, so the distribution-wide error responses never turn an API error into a page); under
/console/assets/ a missing file stays an error.
"""

from __future__ import annotations

from typing import Any, cast

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3_deployment
from constructs import Construct

from blueprint import StaticSite

from . import acknowledge

# The API as the console sees it on the distribution: `/api/orders` -> the stage's `/orders`.
API_PATH = "/api"
LOG_DAYS = 90

SPA_REWRITE = """\
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri === "/" || uri === "%(path)s") {
    return { statusCode: 302, statusDescription: "Found", headers: { location: { value: "%(path)s/" } } };
  }
  if (uri.startsWith("%(path)s/") && !uri.startsWith("%(path)s%(assets)s/")) {
    var last = uri.substring(uri.lastIndexOf("/") + 1);
    if (last.indexOf(".") === -1) {
      request.uri = "%(path)s/%(index)s";
    }
  }
  return request;
}
"""

API_REWRITE = """\
function handler(event) {
  var request = event.request;
  request.uri = request.uri.substring(%(length)d) || "/";
  return request;
}
"""


class ConsoleNotBuiltError(RuntimeError):
    """The stack deploys console/dist: build it first (`make console`; `make synth` does)."""


def spa_rewrite_code(site: StaticSite) -> str:
    return SPA_REWRITE % {"path": site.path, "assets": site.assets_path, "index": site.index}


def api_rewrite_code() -> str:
    return API_REWRITE % {"length": len(API_PATH)}


# cdk-nag acknowledgments, each with its reason.
LOGS_BUCKET_REASON = (
    "This bucket receives the server access logs of the console bucket and the CloudFront standard logs; "
    "logging the log bucket's own accesses would log into itself or need a third bucket."
)
GEO_REASON = (
    "The console is for the retailer's staff wherever they work; sign-in (Cognito or an API key) guards it, "
    "not the viewer's country. A geo restriction is a per-deployment decision."
)
CLOUDFRONT_WAF_REASON = (
    "No WAFv2 web ACL yet (as on the API stage): the console is static files and every API call needs an "
    "API key or a Cognito token, throttled by the usage plan. A web ACL is a paid, per-deployment choice."
)
DEFAULT_CERTIFICATE_REASON = (
    "The distribution uses its default *.cloudfront.net certificate (no custom domain in this stack), "
    "for which CloudFront fixes the viewer security policy; a custom domain with TLSv1.2_2021 is a "
    "deployer's step."
)
DEPLOYMENT_REASON = (
    "The CDK BucketDeployment custom resource (its singleton Lambda and role, written by CDK) copies the "
    "built console into the bucket at deploy time: its runtime, AWSLambdaBasicExecutionRole and the "
    "bucket/asset wildcard grants are CDK's own, scoped to the asset bucket and this console bucket."
)


class ConsoleHosting(Construct):
    """`site`'s files on S3 + CloudFront; `config` is deployed as `<path>/config.json` (tokens allowed)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        site: StaticSite,
        rest_api: apigw.RestApi,
        stage_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        if not (site.folder / site.index).is_file():
            raise ConsoleNotBuiltError(
                f"{site.folder / site.index} is missing: the stack deploys the built console. "
                "Run `make console` (npm ci + vite build; `make synth` and `make infra` do it first)."
            )
        self.site = site
        self.logs = s3.Bucket(
            self,
            "Logs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            # CloudFront standard logs are written with an ACL.
            object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(LOG_DAYS))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(self.logs, "AwsSolutions-S1", LOGS_BUCKET_REASON)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.logs,
            server_access_logs_prefix="console-bucket/",
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.headers = self._headers_policy()
        self.distribution = self._distribution(rest_api, stage_name)
        self.url = f"https://{self.distribution.distribution_domain_name}{site.path}/"
        self.origin = f"https://{self.distribution.distribution_domain_name}"

    def _headers_policy(self) -> cloudfront.ResponseHeadersPolicy:
        return cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="OMS console: HSTS, CSP, no framing, no sniffing, strict referrer.",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=self._content_security_policy(), override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365), include_subdomains=True, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                    override=True,
                ),
            ),
        )

    def _content_security_policy(self) -> str:
        # The token exchange (POST /oauth2/token) goes to the Cognito domain: any of the region's.
        cognito = f"https://*.auth.{Aws.REGION}.amazoncognito.com"
        return "; ".join(
            (
                "default-src 'self'",
                f"connect-src 'self' {cognito}",
                "img-src 'self' data:",
                "style-src 'self' 'unsafe-inline'",
                "script-src 'self'",
                "object-src 'none'",
                "base-uri 'self'",
                f"form-action 'self' {cognito}",
                "frame-ancestors 'none'",
            )
        )

    def _distribution(self, rest_api: apigw.RestApi, stage_name: str) -> cloudfront.Distribution:
        spa = cloudfront.Function(
            self,
            "SpaRewrite",
            comment="Console paths without a file name answer index.html; / redirects to the console.",
            code=cloudfront.FunctionCode.from_inline(spa_rewrite_code(self.site)),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
        )
        api_rewrite = cloudfront.Function(
            self,
            "ApiRewrite",
            comment=f"{API_PATH}/<path> -> the API stage's /<path>.",
            code=cloudfront.FunctionCode.from_inline(api_rewrite_code()),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
        )
        # The API's domain from its id alone (not `rest_api.url`, which names the stage): the stage
        # depends on the methods, the methods on the authorizer, whose app client's callback URLs are
        # on this distribution.
        api_domain = f"{rest_api.rest_api_id}.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}"
        api_origin = origins.HttpOrigin(
            api_domain,
            origin_path=f"/{stage_name}",
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
        )
        # Nothing of the API is cached (TTL 0 unless the API says otherwise), but the credentials are in
        # the key so that they reach the API at all (CloudFront forwards Authorization only so).
        api_cache = cloudfront.CachePolicy(
            self,
            "ApiCache",
            comment="OMS API through the console's origin: no caching; credentials reach the API.",
            default_ttl=Duration.seconds(0),
            min_ttl=Duration.seconds(0),
            max_ttl=Duration.seconds(1),
            header_behavior=cloudfront.CacheHeaderBehavior.allow_list("Authorization", "x-api-key"),
            query_string_behavior=cloudfront.CacheQueryStringBehavior.all(),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
            enable_accept_encoding_gzip=True,
            enable_accept_encoding_brotli=True,
        )
        distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="OMS back-office console and its API.",
            default_root_object=f"{self.site.path.strip('/')}/{self.site.index}",
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=True,
            log_bucket=self.logs,
            log_file_prefix="cloudfront/",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=spa, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
            ),
            additional_behaviors={
                f"{API_PATH}/*": cloudfront.BehaviorOptions(
                    origin=api_origin,
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                    allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                    cache_policy=api_cache,
                    origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                    function_associations=[
                        cloudfront.FunctionAssociation(
                            function=api_rewrite, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                        )
                    ],
                )
            },
        )
        acknowledge(distribution, "AwsSolutions-CFR1", GEO_REASON)
        acknowledge(distribution, "AwsSolutions-CFR2", CLOUDFRONT_WAF_REASON)
        acknowledge(distribution, "AwsSolutions-CFR4", DEFAULT_CERTIFICATE_REASON)
        return distribution

    def deploy(self, config: dict[str, Any]) -> s3_deployment.BucketDeployment:
        """The built files and `config.json` (deploy-time values allowed) under the console's path."""
        prefix = self.site.path.strip("/")
        deployment = s3_deployment.BucketDeployment(
            self,
            "Files",
            destination_bucket=self.bucket,
            destination_key_prefix=prefix,
            sources=[
                s3_deployment.Source.asset(str(self.site.folder)),
                s3_deployment.Source.json_data(self.site.config, config),
            ],
            # Assets have content-hashed names; index.html and config.json must be revalidated.
            cache_control=[s3_deployment.CacheControl.no_cache()],
            distribution=self.distribution,
            distribution_paths=[f"/{prefix}/*"],
            memory_limit=256,
        )
        stack = Stack.of(self)
        bucket_id = stack.resolve(stack.get_logical_id(cast(s3.CfnBucket, self.bucket.node.default_child)))
        findings = [
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole]",
            *(f"AwsSolutions-IAM5[Action::s3:{action}*]" for action in DEPLOYMENT_ACTIONS),
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-"
            "<AWS::Region>/*]",
            f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/*]",
            # cloudfront:CreateInvalidation, which CDK grants on "*".
            "AwsSolutions-IAM5[Resource::*]",
            "AwsSolutions-L1",
        ]
        for child in stack.node.children:
            if child.node.id.startswith("Custom::CDKBucketDeployment"):
                for finding in findings:
                    acknowledge(child, finding, DEPLOYMENT_REASON)
        return deployment


# The S3 actions CDK's BucketDeployment grants with a wildcard (read the asset, write the console bucket).
DEPLOYMENT_ACTIONS = ("GetBucket", "GetObject", "List", "Abort", "DeleteObject")
