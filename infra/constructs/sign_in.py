"""Staff sign-in (`blueprint.USER_POOLS`): an Amazon Cognito user pool whose users an administrator
creates, its hosted UI on a Cognito domain, and the console's app client (authorization code + PKCE,
no client secret: the console is a browser app) sending the browser back to the console on CloudFront."""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from blueprint import StaticSite, UserPool

from . import acknowledge

PASSWORD_MIN_LENGTH = 12
ADVANCED_SECURITY_REASON = (
    "Threat protection (advanced security) needs the Cognito Plus feature plan, billed per active user: "
    "a per-deployment decision. Staff accounts are created by an administrator only, need a 12-character "
    "password with every character class and a TOTP second factor (MFA required)."
)
DOMAIN_PREFIX_CONTEXT = "staffSignInDomainPrefix"


class StaffSignIn(Construct):
    """The pool, its hosted UI domain and the console's app client."""

    def __init__(
        self, scope: Construct, construct_id: str, *, spec: UserPool, site: StaticSite, site_origin: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=False,  # an administrator creates every staff account
            sign_in_aliases=cognito.SignInAliases(username=True, email=True),
            sign_in_case_sensitive=False,
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            password_policy=cognito.PasswordPolicy(
                min_length=PASSWORD_MIN_LENGTH,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            removal_policy=RemovalPolicy.RETAIN,
            deletion_protection=True,
        )
        acknowledge(self.user_pool, "AwsSolutions-COG3", ADVANCED_SECURITY_REASON)
        acknowledge(self.user_pool, "AwsSolutions-COG8", ADVANCED_SECURITY_REASON)
        prefix = self.node.try_get_context(DOMAIN_PREFIX_CONTEXT) or f"oms-staff-{Aws.ACCOUNT_ID}"
        self.domain = self.user_pool.add_domain(
            "HostedUi", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=prefix)
        )
        self.callback_url = f"{site_origin}{site.path}{spec.callback_path}"
        self.signed_out_url = f"{site_origin}{site.path}{spec.signed_out_path}"
        self.client = self.user_pool.add_client(
            "Console",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_srp=True),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.custom(scope) for scope in spec.scopes],
                callback_urls=[self.callback_url],
                logout_urls=[self.signed_out_url],
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.hours(12),
        )
        # What Cognito writes as `iss` (the pool's ProviderURL attribute lacks the scheme).
        self.issuer = f"https://cognito-idp.{Aws.REGION}.{Aws.URL_SUFFIX}/{self.user_pool.user_pool_id}"
        self.jwks_url = f"{self.issuer}/.well-known/jwks.json"

    @property
    def domain_url(self) -> str:
        return self.domain.base_url()

    def environment(self) -> dict[str, str]:
        """The values of the pool's `environment_keys()`, for the functions that verify its tokens."""
        return {
            self.spec.issuer_env: self.issuer,
            self.spec.jwks_url_env: self.jwks_url,
            self.spec.client_id_env: self.client.user_pool_client_id,
        }

    def console_settings(self) -> dict[str, object]:
        """What the console's config.json says about signing in with Cognito."""
        return {
            "domain": self.domain_url,
            "clientId": self.client.user_pool_client_id,
            "scopes": list(self.spec.scopes),
            "redirectUri": self.callback_url,
            "signedOutUri": self.signed_out_url,
        }
