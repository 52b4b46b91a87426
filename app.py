"""`cdk synth` entry point: the OMS stack, checked by cdk-nag (AwsSolutions)."""

from infra.synth import build_app

app, _ = build_app()
app.synth()
