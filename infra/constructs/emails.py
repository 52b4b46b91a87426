"""Amazon SES e-mail templates from `blueprint.EMAIL_TEMPLATES`, each named after the stack
(`<stack name>-<template name>`: SES template names are per account and region, so two stacks never
share one)."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_ses as ses
from constructs import Construct

from blueprint import EMAIL_TEMPLATES
from blueprint import EmailTemplate as EmailTemplateSpec

from . import BLUEPRINT_METADATA_KEY


def template_name(stack_name: str, spec: EmailTemplateSpec) -> str:
    return f"{stack_name}-{spec.name}"


class EmailTemplates(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        # Blueprint name -> the SES template's name.
        self.names: dict[str, str] = {}
        for spec in EMAIL_TEMPLATES.values():
            name = template_name(stack.stack_name, spec)
            template = ses.CfnTemplate(
                self,
                spec.name,
                template=ses.CfnTemplate.TemplateProperty(
                    template_name=name,
                    subject_part=spec.subject(),
                    html_part=spec.html(),
                    text_part=spec.text(),
                ),
            )
            template.add_metadata(BLUEPRINT_METADATA_KEY, {"kind": "EmailTemplate", "name": spec.name})
            self.names[spec.name] = name
