"""The AWS CDK rendering of the blueprint: one stack, `OmsStack`, built from `blueprint` alone."""
