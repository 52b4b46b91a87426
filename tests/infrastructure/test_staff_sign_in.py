"""Staff sign-in in the stack: the Cognito user pool and its console app client, and the API's REQUEST
authorizer on exactly the routes that need an API key (`apiKeySource: AUTHORIZER`)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from blueprint import API_AUTHORIZER, ROUTES, STAFF_POOL
from infra.synth import blueprint_names, resources_of_type, template_authorizers

pytestmark = pytest.mark.slow

Template = dict[str, Any]


def only(template: Template, resource_type: str) -> dict[str, Any]:
    (resource,) = resources_of_type(template, resource_type).values()
    return dict(resource["Properties"])


def test_staff_are_created_by_an_administrator_with_strong_passwords_and_mfa(template: Template) -> None:
    pool = only(template, "AWS::Cognito::UserPool")
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    passwords = pool["Policies"]["PasswordPolicy"]
    assert passwords["MinimumLength"] >= 12
    assert all(passwords[f"Require{kind}"] for kind in ("Lowercase", "Uppercase", "Numbers", "Symbols"))
    assert pool["MfaConfiguration"] == "ON"
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert pool["DeletionProtection"] == "ACTIVE"
    (resource,) = resources_of_type(template, "AWS::Cognito::UserPool").values()
    assert resource["DeletionPolicy"] == "Retain"


def test_the_hosted_ui_has_a_cognito_domain(template: Template) -> None:
    domain = only(template, "AWS::Cognito::UserPoolDomain")
    assert "CustomDomainConfig" not in domain
    assert domain["Domain"]["Fn::Join"][1][0] == "oms-staff-"
    assert "StaffSignInUrl" in template["Outputs"] and "StaffUserPoolId" in template["Outputs"]


def test_the_console_client_uses_the_authorization_code_flow_back_to_cloudfront(template: Template) -> None:
    client = only(template, "AWS::Cognito::UserPoolClient")
    assert client["GenerateSecret"] is False  # a browser app: PKCE, no secret
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["AllowedOAuthScopes"] == list(STAFF_POOL.scopes)
    assert client["SupportedIdentityProviders"] == ["COGNITO"]
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    (distribution,) = resources_of_type(template, "AWS::CloudFront::Distribution")
    domain = {"Fn::GetAtt": [distribution, "DomainName"]}
    assert client["CallbackURLs"] == [{"Fn::Join": ["", ["https://", domain, "/console/callback"]]}]
    assert client["LogoutURLs"] == [{"Fn::Join": ["", ["https://", domain, "/console/"]]}]


def test_the_api_takes_the_usage_plan_key_from_the_authorizer(template: Template) -> None:
    assert only(template, "AWS::ApiGateway::RestApi")["ApiKeySourceType"] == "AUTHORIZER"
    authorizer = only(template, "AWS::ApiGateway::Authorizer")
    assert authorizer["Type"] == "REQUEST"
    # Either header may be absent: no identity source, hence no cache (API Gateway requires both).
    assert "IdentitySource" not in authorizer
    assert authorizer["AuthorizerResultTtlInSeconds"] == 0
    functions = {lid for lid, name in blueprint_names(template, "Function").items() if name == API_AUTHORIZER}
    assert {ref["Fn::GetAtt"][0] for ref in _get_atts(authorizer["AuthorizerUri"])} == functions


def test_every_api_key_route_and_no_public_one_has_the_authorizer(template: Template) -> None:
    expected = {(r.method, r.path): r.authorizer for r in ROUTES}
    assert template_authorizers(template) == expected
    assert {r.authorizer for r in ROUTES if r.api_key_required} == {API_AUTHORIZER}
    public = {(r.method, r.path) for r in ROUTES if not r.api_key_required}
    assert {("GET", "/health"), ("POST", "/webhooks/{channelId}"), ("POST", "/track/lookup")} <= public
    assert all(expected[route] is None for route in public)


def test_api_gateway_may_invoke_the_authorizer(template: Template) -> None:
    functions = {lid for lid, name in blueprint_names(template, "Function").items() if name == API_AUTHORIZER}
    permissions = [
        p["Properties"]
        for p in resources_of_type(template, "AWS::Lambda::Permission").values()
        if {ref["Fn::GetAtt"][0] for ref in _get_atts(p["Properties"]["FunctionName"])} & functions
    ]
    assert [p["Principal"] for p in permissions] == ["apigateway.amazonaws.com"]
    assert "/authorizers/" in json.dumps(permissions[0]["SourceArn"])


def _get_atts(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        own = [value] if "Fn::GetAtt" in value else []
        return own + [g for item in value.values() for g in _get_atts(item)]
    if isinstance(value, list):
        return [g for item in value for g in _get_atts(item)]
    return []
